/// Why a `--config` file cannot be used, naming the file, the task and the field:
/// `--config /etc/forkpool.yaml: task "resize": field "argv": must be a non-empty list of strings`.
public struct TaskConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    /// `"resize"`, or `#2` (its position) for a task without a usable name; nil for the file as a whole.
    public let task: String?
    /// `argv`, `env.allow`, `argv[2]`; nil when no one field is at fault.
    public let field: String?
    public let message: String

    public init(file: String, task: String? = nil, field: String? = nil, message: String) {
        self.file = file
        self.task = task
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = "--config \(file)"
        if let task { text += ": task \(task)" }
        if let field { text += ": field \"\(field)\"" }
        return text + ": " + message
    }
}
