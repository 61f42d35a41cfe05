#if canImport(Glibc)
import Glibc
#endif
import JSON
import ProcessPool

/// The tasks every server has.
enum BuiltinTasks {
    static var all: [TaskDefinition] { [echo, sleep, sha256, fail] }

    static var echo: TaskDefinition {
        TaskDefinition(
            name: "echo",
            description: "Returns its input unchanged, byte for byte.",
            inputSchema: schema(#"{"description": "Any JSON value."}"#)
        ) { input, _ in
            // The service stored the client's own bytes: handing them back keeps strings, integers and doubles exact.
            input.isEmpty ? Array("null".utf8) : input
        }
    }

    static var sleep: TaskDefinition {
        TaskDefinition(
            name: "sleep",
            description: "Sleeps for `ms` milliseconds, reporting progress, and returns {\"slept_ms\": ms}.",
            inputSchema: schema(#"""
                {"type": "object", "required": ["ms"], "additionalProperties": false,
                 "properties": {"ms": {"type": "integer", "minimum": 0, "maximum": 86400000}}}
                """#)
        ) { input, context in
            let milliseconds = try integerField("ms", in: try parse(input))
            var slept: Int64 = 0
            while slept < milliseconds {
                let step = min(100, milliseconds - slept)
                var request = timespec(tv_sec: 0, tv_nsec: Int(step) * 1_000_000)
                var remaining = timespec()
                while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
                slept += step
                if slept < milliseconds {
                    try context.reportProgress(percent: Double(slept) * 100 / Double(milliseconds), message: "slept \(slept) ms")
                }
            }
            return JSONWriter.encode(.object(JSONObject([("slept_ms", .integer(milliseconds))])))
        }
    }

    static var sha256: TaskDefinition {
        TaskDefinition(
            name: "sha256",
            description: "SHA-256 of the UTF-8 bytes of `data`, then `rounds - 1` more times of the 32 raw bytes of the digest; returns {\"hex\": lowercase hex}.",
            inputSchema: schema(#"""
                {"type": "object", "required": ["data"], "additionalProperties": false,
                 "properties": {"data": {"type": "string"},
                                "rounds": {"type": "integer", "minimum": 1, "maximum": 10000000, "default": 1}}}
                """#)
        ) { input, context in
            let object = try parse(input)
            guard case let .object(fields) = object, case let .string(data)? = fields["data"] else {
                throw TaskError("input needs a string \"data\"")
            }
            let rounds = fields["rounds"] == nil ? 1 : try integerField("rounds", in: object)
            var digest = SHA256.hash(Array(data.utf8))
            let reportEvery = max(rounds / 20, 50_000)
            if rounds > 1 {
                for round in 2...rounds {
                    digest = SHA256.hash(digest)
                    if round % reportEvery == 0 {
                        try context.reportProgress(percent: Double(round) * 100 / Double(rounds), message: "round \(round) of \(rounds)")
                    }
                }
            }
            return JSONWriter.encode(.object(JSONObject([("hex", .string(hexString(digest)))])))
        }
    }

    static var fail: TaskDefinition {
        TaskDefinition(
            name: "fail",
            description: "Fails with error code task_error and the given message.",
            inputSchema: schema(#"""
                {"type": "object", "required": ["message"], "additionalProperties": false,
                 "properties": {"message": {"type": "string"}}}
                """#)
        ) { input, _ in
            guard case let .object(fields) = try parse(input), case let .string(message)? = fields["message"] else {
                throw TaskError("input needs a string \"message\"")
            }
            throw TaskError(message)
        }
    }

    /// A schema written in this file; a malformed one is a bug caught by the tests.
    private static func schema(_ text: String) -> JSONSchema {
        try! JSONSchema(try! JSONParser.parse(Array(text.utf8)))
    }

    private static func parse(_ input: [UInt8]) throws -> JSONValue {
        do {
            return try JSONParser.parse(input)
        } catch {
            throw TaskError("input is not valid JSON: \(error)")
        }
    }

    private static func integerField(_ name: String, in value: JSONValue) throws -> Int64 {
        guard case let .object(fields) = value else { throw TaskError("input must be an object") }
        switch fields[name] {
        case let .integer(number)?: return number
        case let .double(number)? where number == number.rounded() && abs(number) < 9e15: return Int64(number)
        default: throw TaskError("\"\(name)\" must be an integer")
        }
    }
}
