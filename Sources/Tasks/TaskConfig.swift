#if canImport(Glibc)
import Glibc
#endif
import JSON
import SystemV
import Yams

/// The `--config` file: command tasks, read and checked once when the server starts.
///
/// ```yaml
/// tasks:
///   - name: word-count
///     argv: ["/bin/sh", "-c", "printf '%s' \"$1\" | wc -w", "sh", "{text}"]
///     input_schema: {type: object, required: [text], properties: {text: {type: string}}}
///     output: json
/// ```
///
/// YAML 1.2 (core schema), so a JSON file is a valid configuration too. Every problem is
/// refused with a `TaskConfigError` naming the file, the task and the field.
public enum TaskConfig {
    /// The fields a task may have.
    public static let taskFields = ["name", "description", "input_schema", "argv", "stdin", "output", "timeout_ms",
                                    "max_output_bytes", "cwd", "env"]
    public static let environmentFields = ["allow", "set"]
    public static let maximumTimeoutMs = 86_400_000
    public static let maximumOutputBytesLimit = 1 << 30
    /// Larger configuration files are refused.
    public static let maximumFileBytes = 4 << 20
    /// Where a program name without a slash is looked for when the environment has no PATH.
    public static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// Reads and checks the file at `path`.
    /// - Parameters:
    ///   - reservedNames: names taken already (the built-in tasks).
    ///   - environment: the server's environment; its PATH finds programs named without a slash.
    public static func load(path: String, reservedNames: Set<String>,
                            environment: [String: String]) throws(TaskConfigError) -> [CommandTask] {
        let text = try readFile(path)
        return try parse(text, file: path, reservedNames: reservedNames, environment: environment)
    }

    /// Checks a configuration's text; `file` names it in messages.
    public static func parse(_ text: String, file: String, reservedNames: Set<String>,
                             environment: [String: String]) throws(TaskConfigError) -> [CommandTask] {
        guard let root = try parseDocument(text, file: file), !root.isNullScalar else {
            throw TaskConfigError(file: file, message: "the file holds no configuration; it needs a mapping with a list \"tasks\"")
        }
        guard case let .mapping(top) = root else {
            throw TaskConfigError(file: file, message: "must be a mapping with a list \"tasks\"\(root.place)")
        }
        for key in top.keys where key.scalarText != "tasks" {
            throw TaskConfigError(file: file, field: key.scalarText ?? "?",
                                  message: "unknown field\(key.place); the configuration has only \"tasks\"")
        }
        guard let list = top["tasks"] else {
            throw TaskConfigError(file: file, field: "tasks", message: "is required: a list of tasks")
        }
        guard case let .sequence(items) = list else {
            throw TaskConfigError(file: file, field: "tasks", message: "must be a list of tasks\(list.place)")
        }
        var tasks: [CommandTask] = []
        var positions: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            var reader = TaskReader(file: file, position: index + 1, node: item, environment: environment)
            let task = try reader.read()
            if reservedNames.contains(task.name) {
                throw reader.error("name", "\"\(task.name)\" is a built-in task; choose another name")
            }
            if let first = positions[task.name] {
                throw reader.error("name", "\"\(task.name)\" is defined twice (tasks #\(first) and #\(index + 1))")
            }
            positions[task.name] = index + 1
            tasks.append(task)
        }
        return tasks
    }

    private static func readFile(_ path: String) throws(TaskConfigError) -> String {
        guard !path.isEmpty else { throw TaskConfigError(file: path, message: "the path is empty") }
        var bytes: [UInt8] = []
        do {
            let fd = try Syscall.openReadOnly(path)
            defer { Syscall.close(fd) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            while let count = try chunk.withUnsafeMutableBytes({ (buffer) throws(SystemCallError) in try Syscall.read(fd, into: buffer) }),
                  count > 0 {
                bytes.append(contentsOf: chunk[..<count])
                guard bytes.count <= maximumFileBytes else {
                    throw TaskConfigError(file: path, message: "larger than \(maximumFileBytes) bytes")
                }
            }
        } catch let error as SystemCallError {
            let verb = error.call.hasPrefix("open") ? "open" : "read"
            throw TaskConfigError(file: path, message: "cannot \(verb): \(errnoText(error.errno))")
        } catch let error as TaskConfigError {
            throw error
        } catch {
            throw TaskConfigError(file: path, message: "cannot read: \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TaskConfigError(file: path, message: "not valid UTF-8")
        }
        return text
    }
}

/// Reads one entry of `tasks`.
private struct TaskReader {
    let file: String
    let position: Int
    let node: Node
    let environment: [String: String]
    /// How messages name the task: `"resize"` once its name is known, `#2` before.
    var label: String

    init(file: String, position: Int, node: Node, environment: [String: String]) {
        self.file = file
        self.position = position
        self.node = node
        self.environment = environment
        label = "#\(position)"
    }

    func error(_ field: String?, _ message: String) -> TaskConfigError {
        TaskConfigError(file: file, task: label, field: field, message: message)
    }

    mutating func read() throws(TaskConfigError) -> CommandTask {
        guard case let .mapping(fields) = node else {
            throw error(nil, "must be a mapping with at least \"name\" and \"argv\"\(node.place)")
        }
        let name = try readName(fields)
        label = "\"\(name)\""
        for key in fields.keys {
            guard let text = key.scalarText, TaskConfig.taskFields.contains(text) else {
                throw error(key.scalarText ?? "?",
                            "unknown field\(key.place); a task has \(TaskConfig.taskFields.joined(separator: ", "))")
            }
        }
        let schema = try readSchema(fields["input_schema"])
        let (arguments, executable) = try readArguments(fields["argv"], schema: schema)
        let description = try optionalString(fields["description"], "description") ?? "Runs \(executable)."
        let stdin = try choice(fields["stdin"], "stdin", default: CommandTask.StandardInput.none)
        let output = try choice(fields["output"], "output", default: CommandTask.OutputFormat.text)
        let timeout = try optionalInteger(fields["timeout_ms"], "timeout_ms", 1...TaskConfig.maximumTimeoutMs)
        let maximumOutput = try optionalInteger(fields["max_output_bytes"], "max_output_bytes", 1...TaskConfig.maximumOutputBytesLimit)
        let directory = try readDirectory(fields["cwd"])
        let (allowed, fixed) = try readEnvironment(fields["env"])
        return CommandTask(
            name: name, description: description, inputSchema: schema, arguments: arguments, executablePath: executable,
            standardInput: stdin, outputFormat: output, defaultTimeoutMs: timeout.map { UInt32($0) },
            maximumOutputBytes: maximumOutput ?? CommandTask.defaultMaximumOutputBytes, workingDirectory: directory,
            allowedVariables: allowed, fixedVariables: fixed)
    }

    // MARK: Fields

    private func readName(_ fields: Node.Mapping) throws(TaskConfigError) -> String {
        guard let node = fields["name"], !node.isNullScalar else { throw error("name", "is required") }
        guard case .scalar = node, let name = node.scalarText else { throw error("name", "must be a string\(node.place)") }
        guard TaskCatalog.isValidName(name) else {
            throw error("name", "\"\(name)\" must be 1 to 64 characters of a-z, A-Z, 0-9, _, . and -")
        }
        return name
    }

    private func readSchema(_ node: Node?) throws(TaskConfigError) -> JSONSchema {
        guard let node, !node.isNullScalar else { return try! JSONSchema(.object(JSONObject())) }
        var converter = YAMLToJSON()
        let value: JSONValue
        do {
            value = try converter.convert(node)
        } catch {
            throw self.error("input_schema", "at \(error.pointer.isEmpty ? "(root)" : error.pointer): \(error.message)")
        }
        do {
            return try JSONSchema(value)
        } catch {
            throw self.error("input_schema", "\(error)")
        }
    }

    private func readArguments(_ node: Node?, schema: JSONSchema) throws(TaskConfigError) -> ([CommandTask.Argument], String) {
        let shape = "must be a non-empty list of strings"
        guard let node, !node.isNullScalar else { throw error("argv", "is required: a non-empty list of strings") }
        guard case let .sequence(items) = node, !items.isEmpty else { throw error("argv", "\(shape)\(node.place)") }
        var arguments: [CommandTask.Argument] = []
        for (index, item) in items.enumerated() {
            guard case .scalar = item, let text = item.scalarText else {
                throw error("argv", "\(shape); argv[\(index)] is not a string\(item.place)")
            }
            guard !text.utf8.contains(0) else { throw error("argv", "argv[\(index)] contains a NUL character") }
            if let field = placeholder(text) {
                guard index > 0 else { throw error("argv", "argv[0] is the program and cannot be a placeholder") }
                guard requiredFields(of: schema).contains(field) else {
                    throw error("argv", "argv[\(index)] is {\(field)}, but input_schema does not require a property \"\(field)\" "
                                + "(a placeholder names a required property of an object input: type: object, required: [\(field)])")
                }
                arguments.append(.field(field))
            } else {
                arguments.append(.literal(text))
            }
        }
        guard case let .literal(program) = arguments[0], !program.isEmpty else { throw error("argv", "argv[0] is empty") }
        return (arguments, try resolveProgram(program))
    }

    /// `{field}`: the whole element, braces only at its ends.
    private func placeholder(_ text: String) -> String? {
        guard text.count >= 3, text.first == "{", text.last == "}" else { return nil }
        let inner = text.dropFirst().dropLast()
        guard !inner.contains("{"), !inner.contains("}") else { return nil }
        return String(inner)
    }

    /// The properties an object input must have, when the schema says the input is an object.
    private func requiredFields(of schema: JSONSchema) -> Set<String> {
        guard case let .object(root) = schema.source, case .string("object")? = root["type"],
              case let .array(required)? = root["required"] else { return [] }
        return Set(required.compactMap { if case let .string(name) = $0 { return name } else { return nil } })
    }

    /// The absolute path of an executable regular file, or the first one PATH names.
    private func resolveProgram(_ program: String) throws(TaskConfigError) -> String {
        if program.hasPrefix("/") {
            if let problem = executableProblem(program) { throw error("argv", "argv[0] \(program) \(problem)") }
            return program
        }
        guard !program.contains("/") else {
            throw error("argv", "argv[0] \(program) must be an absolute path or a program name found in PATH")
        }
        let searchPath = environment["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? TaskConfig.defaultSearchPath
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(program)" : "\(directory)/\(program)"
            if executableProblem(candidate) == nil { return candidate }
        }
        throw error("argv", "argv[0] \(program) was not found in PATH (\(searchPath))")
    }

    /// Why `path` cannot be executed, or nil.
    private func executableProblem(_ path: String) -> String? {
        do {
            guard try Syscall.fileType(path) == S_IFREG else { return "is not a regular file" }
        } catch {
            return "cannot be run: \(errnoText(error.errno))"
        }
        do {
            try Syscall.checkAccess(path, X_OK)
        } catch {
            return "is not executable: \(errnoText(error.errno))"
        }
        return nil
    }

    private func readDirectory(_ node: Node?) throws(TaskConfigError) -> String? {
        guard let path = try optionalString(node, "cwd") else { return nil }
        guard path.hasPrefix("/") else { throw error("cwd", "\(path) must be an absolute path") }
        let type: mode_t
        do {
            type = try Syscall.fileType(path)
        } catch {
            throw self.error("cwd", "\(path): \(errnoText(error.errno))")
        }
        guard type == S_IFDIR else { throw error("cwd", "\(path) is not a directory") }
        do {
            try Syscall.checkAccess(path, X_OK)
        } catch {
            throw self.error("cwd", "\(path) cannot be entered: \(errnoText(error.errno))")
        }
        return path
    }

    private func readEnvironment(_ node: Node?) throws(TaskConfigError) -> ([String], [CommandTask.FixedVariable]) {
        guard let node, !node.isNullScalar else { return ([], []) }
        guard case let .mapping(fields) = node else {
            throw error("env", "must be a mapping with \"allow\" (a list of names) and \"set\" (names and values)\(node.place)")
        }
        for key in fields.keys {
            guard let text = key.scalarText, TaskConfig.environmentFields.contains(text) else {
                throw error("env.\(key.scalarText ?? "?")", "unknown field\(key.place); env has allow and set")
            }
        }
        var allowed: [String] = []
        if let list = fields["allow"], !list.isNullScalar {
            guard case let .sequence(items) = list else { throw error("env.allow", "must be a list of variable names\(list.place)") }
            for item in items {
                guard case .scalar = item, let name = item.scalarText else {
                    throw error("env.allow", "must be a list of variable names\(item.place)")
                }
                try checkVariableName(name, field: "env.allow")
                if !allowed.contains(name) { allowed.append(name) }
            }
        }
        var fixed: [CommandTask.FixedVariable] = []
        if let map = fields["set"], !map.isNullScalar {
            guard case let .mapping(pairs) = map else {
                throw error("env.set", "must be a mapping of variable names to values\(map.place)")
            }
            for (key, value) in pairs {
                guard case .scalar = key, let name = key.scalarText else {
                    throw error("env.set", "a variable name must be a string\(key.place)")
                }
                try checkVariableName(name, field: "env.set")
                guard case .scalar = value, let text = value.scalarText else {
                    throw error("env.set", "the value of \(name) must be a string\(value.place)")
                }
                guard !text.utf8.contains(0) else { throw error("env.set", "the value of \(name) contains a NUL character") }
                fixed.append(CommandTask.FixedVariable(name: name, value: text))
            }
        }
        return (allowed, fixed)
    }

    private func checkVariableName(_ name: String, field: String) throws(TaskConfigError) {
        if name == CommandTask.tokenVariable {
            throw error(field, "\(name) is never passed to a command: the server's token stays in the server")
        }
        if name == CommandTask.progressVariable {
            throw error(field, "\(name) is set by forkpool itself (the progress descriptor)")
        }
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) && bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
        guard valid else { throw error(field, "\"\(name)\" is not a variable name (letters, digits and _, not starting with a digit)") }
    }

    // MARK: Scalars

    private func optionalString(_ node: Node?, _ field: String) throws(TaskConfigError) -> String? {
        guard let node, !node.isNullScalar else { return nil }
        guard case .scalar = node, let text = node.scalarText else { throw error(field, "must be a string\(node.place)") }
        return text
    }

    private func optionalInteger(_ node: Node?, _ field: String, _ range: ClosedRange<Int>) throws(TaskConfigError) -> Int? {
        guard let node, !node.isNullScalar else { return nil }
        guard let value = node.integerValue, range.contains(Int(value)) else {
            throw error(field, "must be an integer from \(range.lowerBound) to \(range.upperBound)"
                        + (node.scalarText.map { ", not \($0)" } ?? "") + node.place)
        }
        return Int(value)
    }

    private func choice<Choice: RawRepresentable & CaseIterable>(_ node: Node?, _ field: String,
                                                               default fallback: Choice) throws(TaskConfigError) -> Choice
    where Choice.RawValue == String {
        guard let text = try optionalString(node, field) else { return fallback }
        guard let value = Choice(rawValue: text) else {
            let names = Choice.allCases.map { $0.rawValue }.joined(separator: " or ")
            throw error(field, "must be \(names), not \(text)")
        }
        return value
    }
}
