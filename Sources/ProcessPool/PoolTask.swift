/// A unit of work for the pool: a registered task's name and its input.
public struct PoolTask: Sendable {
    public var name: String
    public var input: [UInt8]
    /// Higher runs first; equal priorities run in submission order.
    public var priority: Int
    /// The parent stops the worker after this long (SIGTERM, then SIGKILL after the grace period).
    public var timeout: Duration?

    public init(name: String, input: [UInt8] = [], priority: Int = 0, timeout: Duration? = nil) {
        self.name = name
        self.input = input
        self.priority = priority
        self.timeout = timeout
    }
}

/// How a task ended.
public enum TaskOutcome: Equatable, Sendable {
    case succeeded([UInt8])
    case failed(TaskFailure)
}

/// The end of one task, delivered exactly once.
public struct TaskResult: Sendable {
    public let taskID: UInt64
    public let name: String
    public let outcome: TaskOutcome
    /// The worker that ran it; this process's pid in synchronous mode; 0 if it never started.
    public let workerPID: Int32
    /// The last progress the task reported, if any.
    public let lastProgress: Progress?
    /// Progress frames received for this task.
    public let progressCount: Int
}

/// Why a task did not succeed. The message names the cause: the task's own
/// message, the exit code, or the signal.
public struct TaskFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The handler threw; the message is its error.
        case taskError = "task_error"
        /// The worker died or exited before sending a result.
        case workerCrashed = "worker_crashed"
        /// The task ran past its timeout and was stopped.
        case timeout
        /// The task was canceled.
        case canceled
        /// The worker sent a frame larger than the maximum.
        case resultTooLarge = "result_too_large"
        /// The worker broke the frame protocol.
        case protocolError = "protocol_error"
        /// The worker could not be started (fork or socketpair failed).
        case startFailed = "start_failed"
        /// The pool shut down before the task could finish.
        case shutdown
    }

    public let code: Code
    public let message: String
    /// The worker's exit code, when it exited.
    public let exitCode: Int32?
    /// The signal that ended the worker, when one did.
    public let signal: Int32?

    public init(code: Code, message: String, exitCode: Int32? = nil, signal: Int32? = nil) {
        self.code = code
        self.message = message
        self.exitCode = exitCode
        self.signal = signal
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
