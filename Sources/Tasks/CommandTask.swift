import JSON
import ProcessPool

/// A task that runs an operator's command, declared in the `--config` file and
/// checked when the server starts (`TaskConfig`).
///
/// Each job runs the command once, in the worker, directly with execve: never
/// through a shell. See `run(input:context:)` for how.
public struct CommandTask: Sendable {
    /// What the command reads on standard input.
    public enum StandardInput: String, Sendable, CaseIterable {
        /// The job's input as one line of compact JSON.
        case json
        /// /dev/null.
        case none
    }

    /// How the command's standard output becomes the result's `output`.
    public enum OutputFormat: String, Sendable, CaseIterable {
        /// Standard output must be one JSON value; it is the output as it was written.
        case json
        /// Standard output is the output as a JSON string.
        case text
    }

    /// One element of the argument vector.
    public enum Argument: Equatable, Sendable {
        /// Passed as written.
        case literal(String)
        /// `{field}`: replaced, as one whole argument, by the input's top-level `field`.
        case field(String)
    }

    /// A variable the command gets whatever the server's environment holds.
    public struct FixedVariable: Equatable, Sendable {
        public let name: String
        public let value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The descriptor on which a command may write progress lines.
    public static let progressDescriptor: Int32 = 3
    /// Never passed to a command, whatever the configuration says.
    public static let tokenVariable = "FORKPOOL_TOKEN"
    /// Set for every command: the number of its progress descriptor.
    public static let progressVariable = "FORKPOOL_PROGRESS_FD"
    /// The default of `max_output_bytes`.
    public static let defaultMaximumOutputBytes = 1 << 20
    /// How much of standard error a failure's message keeps: the last 4 KiB.
    public static let stderrTailBytes = 4096

    public let name: String
    public let description: String
    public let inputSchema: JSONSchema
    /// The argument vector; the first element is always a literal, the program's name as written.
    public let arguments: [Argument]
    /// The program to execute: the first argument, or where it was found in PATH at start-up.
    public let executablePath: String
    public let standardInput: StandardInput
    public let outputFormat: OutputFormat
    /// The timeout of a job that names none; nil: the server's default.
    public let defaultTimeoutMs: UInt32?
    /// More standard output than this kills the command and fails the job with `result_too_large`.
    public let maximumOutputBytes: Int
    /// The command's working directory; nil: the server's.
    public let workingDirectory: String?
    /// Variables passed through from the server's environment when it has them.
    public let allowedVariables: [String]
    /// Variables set to fixed values (they win over allowed ones).
    public let fixedVariables: [FixedVariable]

    public init(name: String, description: String, inputSchema: JSONSchema, arguments: [Argument],
                executablePath: String, standardInput: StandardInput = .none, outputFormat: OutputFormat = .text,
                defaultTimeoutMs: UInt32? = nil, maximumOutputBytes: Int = CommandTask.defaultMaximumOutputBytes,
                workingDirectory: String? = nil, allowedVariables: [String] = [], fixedVariables: [FixedVariable] = []) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.arguments = arguments
        self.executablePath = executablePath
        self.standardInput = standardInput
        self.outputFormat = outputFormat
        self.defaultTimeoutMs = defaultTimeoutMs
        self.maximumOutputBytes = maximumOutputBytes
        self.workingDirectory = workingDirectory
        self.allowedVariables = allowedVariables
        self.fixedVariables = fixedVariables
    }

    /// The task for the catalog: its handler runs the command in the worker.
    public var definition: TaskDefinition {
        let task = self
        return TaskDefinition(name: name, description: description, inputSchema: inputSchema,
                              defaultTimeoutMs: defaultTimeoutMs) { input, context in
            try task.run(input: input, context: context)
        }
    }
}
