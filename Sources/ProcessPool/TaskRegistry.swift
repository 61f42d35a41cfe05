/// What a running task can do besides compute its result.
public struct TaskContext {
    /// The pool's id of this task.
    public let taskID: UInt64
    let sendProgress: (Progress) throws -> Void

    /// Reports progress; it travels to the pool as a frame before the result.
    public func reportProgress(percent: Double, message: String = "") throws {
        let clamped = percent.isNaN ? 0 : min(100, max(0, percent))
        try sendProgress(Progress(percent: clamped, message: message))
    }
}

/// A task's code: takes the input bytes, returns the result bytes, or throws to
/// fail the task with the error's description as its message. Runs in a worker process.
public typealias TaskHandler = (_ input: [UInt8], _ context: TaskContext) throws -> [UInt8]

/// Error a handler can throw to fail its task with exactly this message.
public struct TaskError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Error a handler can throw to fail its task with code `result_too_large` and this
/// message: a result it stopped producing because it grew past a limit of its own.
public struct TaskResultTooLarge: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The tasks a pool can run, by name. Workers look handlers up here after the
/// fork, so the registry must be complete before the pool starts workers.
public struct TaskRegistry {
    private var handlers: [String: TaskHandler] = [:]

    public init() {}

    /// Registers `handler` under `name`, replacing any earlier one.
    public mutating func register(_ name: String, handler: @escaping TaskHandler) {
        handlers[name] = handler
    }

    public func handler(named name: String) -> TaskHandler? { handlers[name] }

    public var names: [String] { handlers.keys.sorted() }
}
