import JobStore
import JSON
import Tasks

/// A `POST /v1/jobs` body, checked against the contract: every field of the right
/// type and range (400), a known task and an input its schema accepts (422).
struct SubmitRequest {
    static let fields: Set<String> = ["task", "input", "timeout_ms", "max_attempts", "priority", "idempotency_key"]

    let task: TaskDefinition
    let input: JSONValue
    /// The client's own bytes for `input`, stored and echoed unchanged.
    let rawInput: [UInt8]
    let timeoutMs: UInt32
    let maxAttempts: Int
    let priority: Int
    let idempotencyKey: String?

    /// Parses and validates `body`; `headerKey` is the `Idempotency-Key` header, which wins over the body field.
    init(body: [UInt8], headerKey: String?, catalog: TaskCatalog, settings: ServiceSettings) throws(APIError) {
        let members: [(key: String, value: JSONValue, raw: Range<Int>)]
        do {
            members = try JSONParser.parseObjectWithRawValues(body)
        } catch {
            throw .badRequest("body is not a JSON object: \(error)")
        }
        var values: [String: (value: JSONValue, raw: Range<Int>)] = [:]
        for member in members {
            guard Self.fields.contains(member.key) else {
                let hint = Self.suggestion(for: member.key).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw .badRequest("unknown field \"\(member.key)\"\(hint); fields are \(Self.fields.sorted().joined(separator: ", "))")
            }
            values[member.key] = (member.value, member.raw)
        }

        guard let taskValue = values["task"]?.value else { throw .badRequest("missing field \"task\"") }
        guard case let .string(taskName) = taskValue else { throw .badRequest("\"task\" must be a string") }

        var requestedTimeout: UInt32?
        if let value = values["timeout_ms"]?.value {
            guard let number = Self.integer(value), number > 0 else { throw .badRequest("\"timeout_ms\" must be an integer > 0") }
            requestedTimeout = UInt32(min(Int64(settings.maximumTimeoutMs), number))
        }
        var attempts = 1
        if let value = values["max_attempts"]?.value {
            guard let number = Self.integer(value), (1...10).contains(number) else {
                throw .badRequest("\"max_attempts\" must be an integer from 1 to 10")
            }
            attempts = Int(number)
        }
        var priority = 0
        if let value = values["priority"]?.value {
            guard let number = Self.integer(value), (-10...10).contains(number) else {
                throw .badRequest("\"priority\" must be an integer from -10 to 10")
            }
            priority = Int(number)
        }
        var key: String?
        if let value = values["idempotency_key"]?.value {
            guard case let .string(text) = value else { throw .badRequest("\"idempotency_key\" must be a string") }
            key = try Self.checkedKey(text, source: "\"idempotency_key\"")
        }
        if let headerKey { key = try Self.checkedKey(headerKey, source: "header Idempotency-Key") }

        guard let definition = catalog.definition(named: taskName) else {
            throw .unprocessable("unknown_task", "unknown task \"\(taskName)\"; GET /v1/tasks lists the tasks")
        }
        let timeout = requestedTimeout ?? min(definition.defaultTimeoutMs ?? settings.defaultTimeoutMs, settings.maximumTimeoutMs)
        let input = values["input"]?.value ?? .null
        let violations = definition.inputSchema.validate(input)
        if !violations.isEmpty {
            throw .unprocessable("invalid_input", "input does not fit the schema of task \(taskName): \(violations.prefix(5).joined(separator: "; "))")
        }
        task = definition
        self.input = input
        rawInput = values["input"].map { Array(body[$0.raw]) } ?? Array("null".utf8)
        timeoutMs = timeout
        maxAttempts = attempts
        self.priority = priority
        idempotencyKey = key
    }

    /// The job for the table: inputs compare by the SHA-256 of their canonical JSON, keys by their own hash.
    var newJob: NewJob {
        NewJob(task: task.name, input: rawInput, inputHash: SHA256.hash(canonicalJSON(input)), priority: priority,
               timeoutMs: timeoutMs, maxAttempts: maxAttempts,
               idempotencyKeyHash: idempotencyKey.map { SHA256.hash(Array($0.utf8)) })
    }

    private static func checkedKey(_ key: String, source: String) throws(APIError) -> String {
        guard (1...128).contains(key.unicodeScalars.count) else {
            throw .badRequest("\(source) must be 1 to 128 characters")
        }
        return key
    }

    /// A JSON integer, or a double with an integral value (JSON does not tell 5 from 5.0 apart in meaning).
    static func integer(_ value: JSONValue) -> Int64? {
        switch value {
        case let .integer(number): return number
        case let .double(number) where number.rounded() == number && abs(number) < 9.0e15: return Int64(number)
        default: return nil
        }
    }

    /// The known field a mistyped one probably meant.
    private static func suggestion(for field: String) -> String? {
        let lowered = field.lowercased()
        guard lowered.count >= 3 else { return nil }
        return fields.first { known in
            known.hasPrefix(lowered) || lowered.hasPrefix(known) || known.replacingUnderscores == lowered.replacingUnderscores
        }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(filter { $0 != "_" && $0 != "-" }) }
}
