import JSON
import ProcessPool

/// A task the service offers: its name, what it does, the input it accepts, and its code.
public struct TaskDefinition {
    public let name: String
    public let description: String
    /// Inputs are validated against it before a job is accepted (422 when they do not fit).
    public let inputSchema: JSONSchema
    /// Runs in a worker process: JSON input bytes in, JSON result bytes out.
    public let handler: TaskHandler
    /// The timeout of a job of this task that names none; nil: the server's default.
    public let defaultTimeoutMs: UInt32?

    public init(name: String, description: String, inputSchema: JSONSchema, defaultTimeoutMs: UInt32? = nil,
                handler: @escaping TaskHandler) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.defaultTimeoutMs = defaultTimeoutMs
        self.handler = handler
    }
}

/// Why a task could not be registered.
public struct TaskCatalogError: Error, CustomStringConvertible {
    public let description: String
}

/// The tasks of one server, by name. Complete before the pool forks its first worker.
public struct TaskCatalog {
    private var definitions: [String: TaskDefinition] = [:]

    public init() {}

    /// The four built-in tasks: `echo`, `sleep`, `sha256` and `fail`.
    public static func builtIn() -> TaskCatalog {
        var catalog = TaskCatalog()
        for definition in BuiltinTasks.all {
            // The built-ins have valid, distinct names: a failure here is a bug.
            try! catalog.register(definition)
        }
        return catalog
    }

    /// Adds a task; names are 1 to 64 characters of `a-z A-Z 0-9 _ . -` and unique.
    public mutating func register(_ definition: TaskDefinition) throws(TaskCatalogError) {
        guard Self.isValidName(definition.name) else {
            throw TaskCatalogError(description: "task name \"\(definition.name)\" must be 1 to 64 characters of a-z, A-Z, 0-9, _, . and -")
        }
        guard definitions[definition.name] == nil else {
            throw TaskCatalogError(description: "task \"\(definition.name)\" is defined twice")
        }
        definitions[definition.name] = definition
    }

    public func definition(named name: String) -> TaskDefinition? { definitions[name] }

    /// Every task, by name.
    public var all: [TaskDefinition] { definitions.values.sorted { $0.name < $1.name } }

    /// The handlers, for the process pool.
    public var registry: TaskRegistry {
        var registry = TaskRegistry()
        for definition in definitions.values { registry.register(definition.name, handler: definition.handler) }
        return registry
    }

    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }
}
