import JSON
import Testing
@testable import Tasks

/// Parses `yaml` as the file /etc/forkpool.yaml with the built-in names reserved.
func parseConfig(_ yaml: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) throws -> [CommandTask] {
    try TaskConfig.parse(yaml, file: "/etc/forkpool.yaml", reservedNames: Set(TaskCatalog.builtIn().all.map(\.name)),
                         environment: environment)
}

/// The message a refused configuration gives.
func refusal(_ yaml: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> String? {
    do {
        _ = try parseConfig(yaml, environment: environment)
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite("Task configuration: reading a valid file")
struct TaskConfigReadingTests {
    @Test func everyFieldOfTheDocumentedFormat() throws {
        let tasks = try parseConfig(#"""
            tasks:
              - name: word-count              # a comment
                description: Counts the words of a text.
                input_schema: {type: object, required: [text], additionalProperties: false, properties: {text: {type: string}}}
                argv: ["/usr/bin/wc", "-w", "{text}"]
                stdin: json
                output: text
                timeout_ms: 10000
                max_output_bytes: 1048576
                cwd: /tmp
                env:
                  allow: [PATH, LANG]
                  set: {MODE: fast}
            """#)
        #expect(tasks.count == 1)
        let task = try #require(tasks.first)
        #expect(task.name == "word-count")
        #expect(task.description == "Counts the words of a text.")
        #expect(task.arguments == [.literal("/usr/bin/wc"), .literal("-w"), .field("text")])
        #expect(task.executablePath == "/usr/bin/wc")
        #expect(task.standardInput == .json)
        #expect(task.outputFormat == .text)
        #expect(task.defaultTimeoutMs == 10000)
        #expect(task.maximumOutputBytes == 1_048_576)
        #expect(task.workingDirectory == "/tmp")
        #expect(task.allowedVariables == ["PATH", "LANG"])
        #expect(task.fixedVariables == [CommandTask.FixedVariable(name: "MODE", value: "fast")])
        #expect(task.inputSchema.isValid(["text": "a b"]))
        #expect(!task.inputSchema.isValid(["text": 1]))
        #expect(task.definition.defaultTimeoutMs == 10000)
    }

    @Test func defaultsOfTheOptionalFields() throws {
        let task = try #require(try parseConfig("tasks: [{name: t, argv: [/bin/true]}]").first)
        #expect(task.description == "Runs /bin/true.")
        #expect(task.standardInput == .none)
        #expect(task.outputFormat == .text)
        #expect(task.defaultTimeoutMs == nil)
        #expect(task.maximumOutputBytes == 1 << 20)
        #expect(task.workingDirectory == nil)
        #expect(task.allowedVariables.isEmpty && task.fixedVariables.isEmpty)
        #expect(task.inputSchema.isValid(nil) && task.inputSchema.isValid(["any": [1, 2]]))
    }

    @Test func aJSONFileIsAValidConfiguration() throws {
        let tasks = try parseConfig(#"""
            {
              "tasks": [
                {"name": "a", "argv": ["/bin/echo", "yes", "{n}"], "output": "json", "timeout_ms": 500,
                 "input_schema": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 0}}},
                 "env": {"set": {"FLAG": "on"}}}
              ]
            }
            """#)
        let task = try #require(tasks.first)
        #expect(task.arguments == [.literal("/bin/echo"), .literal("yes"), .field("n")])
        #expect(task.outputFormat == .json && task.defaultTimeoutMs == 500)
        #expect(task.fixedVariables == [CommandTask.FixedVariable(name: "FLAG", value: "on")])
        #expect(task.inputSchema.isValid(["n": 3]) && !task.inputSchema.isValid(["n": -1]))
    }

    @Test func plainScalarsFollowYAML12NotYAML11() throws {
        // yes/no/on/off are strings (YAML 1.2 core schema); numbers in argv and env are kept as written.
        let task = try #require(try parseConfig("""
            tasks:
              - name: t
                argv: [/bin/echo, yes, no, on, 0x1F, 1.50, 2024-01-01]
                env: {set: {A: off, B: 8080, C: "007"}}
                input_schema: {enum: [yes, 1, 1.5, true, null, 0x10]}
            """).first)
        #expect(task.arguments == ["/bin/echo", "yes", "no", "on", "0x1F", "1.50", "2024-01-01"].map(CommandTask.Argument.literal))
        #expect(task.fixedVariables.map(\.value) == ["off", "8080", "007"])
        #expect(task.inputSchema.source == ["enum": ["yes", 1, 1.5, true, nil, 16]])
    }

    @Test func aProgramNameIsFoundInPATHAtStartUp() throws {
        let task = try #require(try parseConfig("tasks: [{name: t, argv: [sh, -c, 'exit 0']}]",
                                                environment: ["PATH": "/nonexistent:/bin"]).first)
        #expect(task.executablePath == "/bin/sh")
        #expect(task.arguments[0] == .literal("sh"))
    }

    @Test func bracesThatAreNotAWholePlaceholderAreLiteral() throws {
        let task = try #require(try parseConfig("""
            tasks:
              - name: t
                argv: [/bin/echo, "x{text}", "{text}y", "{}", "{a}{b}", "{{text}}", "{text}"]
                input_schema: {type: object, required: [text]}
            """).first)
        #expect(task.arguments == [.literal("/bin/echo"), .literal("x{text}"), .literal("{text}y"), .literal("{}"),
                                   .literal("{a}{b}"), .literal("{{text}}"), .field("text")])
    }

    @Test func anEmptyTaskListIsAllowed() throws {
        #expect(try parseConfig("tasks: []").isEmpty)
    }

    @Test func theErrorNamesFileTaskAndField() {
        let error = TaskConfigError(file: "/etc/forkpool.yaml", task: "\"resize\"", field: "argv",
                                    message: "must be a non-empty list of strings")
        #expect(error.description == #"--config /etc/forkpool.yaml: task "resize": field "argv": must be a non-empty list of strings"#)
    }

    @Test func aMissingFileIsNamedWithItsErrno() {
        #expect(throws: TaskConfigError(file: "/nonexistent/forkpool.yaml",
                                        message: "cannot open: No such file or directory (ENOENT)")) {
            try TaskConfig.load(path: "/nonexistent/forkpool.yaml", reservedNames: [], environment: [:])
        }
    }
}

@Suite("Task configuration: every refusal names file, task and field")
struct TaskConfigRefusalTests {
    static let refusals: [(yaml: String, message: String)] = [
        // The file as a whole.
        ("", #"--config /etc/forkpool.yaml: the file holds no configuration; it needs a mapping with a list "tasks""#),
        ("[1, 2]", #"--config /etc/forkpool.yaml: must be a mapping with a list "tasks" (line 1)"#),
        ("tasks: []\nworkers: 3", #"--config /etc/forkpool.yaml: field "workers": unknown field (line 2); the configuration has only "tasks""#),
        ("other: 1", #"field "other": unknown field"#),
        ("tasks: {name: a}", #"--config /etc/forkpool.yaml: field "tasks": must be a list of tasks (line 1)"#),
        ("tasks: [{name: a, argv: [/bin/true]}", "--config /etc/forkpool.yaml: not valid YAML: line 2, column 1: did not find expected ',' or ']'"),
        ("tasks:\n  - name: a\n    name: b\n    argv: [/bin/true]", #"--config /etc/forkpool.yaml: not valid YAML: line 2, column 5: duplicate key "name""#),
        ("tasks: [{name: a, argv: [/bin/true]}]\n---\ntasks: []", "not valid YAML: line 2, column 1: but found another document"),
        // A task's shape and name.
        ("tasks: [3]", #"task #1: must be a mapping with at least "name" and "argv" (line 1)"#),
        ("tasks: [{argv: [/bin/true]}]", #"--config /etc/forkpool.yaml: task #1: field "name": is required"#),
        ("tasks: [{name: [a], argv: [/bin/true]}]", #"task #1: field "name": must be a string (line 1)"#),
        ("tasks: [{name: 'a b', argv: [/bin/true]}]", #"task #1: field "name": "a b" must be 1 to 64 characters of a-z, A-Z, 0-9, _, . and -"#),
        ("tasks: [{name: echo, argv: [/bin/true]}]", #"task "echo": field "name": "echo" is a built-in task; choose another name"#),
        ("tasks: [{name: a, argv: [/bin/true]}, {name: a, argv: [/bin/true]}]",
         #"task "a": field "name": "a" is defined twice (tasks #1 and #2)"#),
        ("tasks: [{name: a, argv: [/bin/true], argvs: [x]}]",
         #"task "a": field "argvs": unknown field (line 1); a task has name, description, input_schema, argv, stdin, output, timeout_ms, max_output_bytes, cwd, env"#),
        // argv.
        ("tasks: [{name: a}]", #"--config /etc/forkpool.yaml: task "a": field "argv": is required: a non-empty list of strings"#),
        ("tasks: [{name: a, argv: /bin/true}]", #"task "a": field "argv": must be a non-empty list of strings (line 1)"#),
        ("tasks: [{name: a, argv: []}]", #"task "a": field "argv": must be a non-empty list of strings"#),
        ("tasks: [{name: a, argv: [/bin/echo, {x: 1}]}]", #"task "a": field "argv": must be a non-empty list of strings; argv[1] is not a string"#),
        ("tasks: [{name: a, argv: [/bin/echo, ~]}]", #"task "a": field "argv": must be a non-empty list of strings; argv[1] is not a string"#),
        ("tasks: [{name: a, argv: ['']}]", #"task "a": field "argv": argv[0] is empty"#),
        ("tasks: [{name: a, argv: [/nonexistent/prog]}]",
         #"task "a": field "argv": argv[0] /nonexistent/prog cannot be run: No such file or directory (ENOENT)"#),
        ("tasks: [{name: a, argv: [/etc/passwd]}]", #"task "a": field "argv": argv[0] /etc/passwd is not executable"#),
        ("tasks: [{name: a, argv: [/tmp]}]", #"task "a": field "argv": argv[0] /tmp is not a regular file"#),
        ("tasks: [{name: a, argv: [no-such-program-here]}]",
         #"task "a": field "argv": argv[0] no-such-program-here was not found in PATH (/usr/bin:/bin)"#),
        ("tasks: [{name: a, argv: [bin/sh]}]", #"task "a": field "argv": argv[0] bin/sh must be an absolute path or a program name found in PATH"#),
        ("tasks: [{name: a, argv: [\"/bin/echo\", \"a\\0b\"]}]", #"task "a": field "argv": argv[1] contains a NUL character"#),
        // Placeholders.
        ("tasks: [{name: a, argv: ['{prog}'], input_schema: {type: object, required: [prog]}}]",
         #"task "a": field "argv": argv[0] is the program and cannot be a placeholder"#),
        ("tasks: [{name: a, argv: [/bin/echo, '{size}']}]",
         #"task "a": field "argv": argv[1] is {size}, but input_schema does not require a property "size""#),
        ("tasks: [{name: a, argv: [/bin/echo, '{size}'], input_schema: {type: object, properties: {size: {type: integer}}}}]",
         #"argv[1] is {size}, but input_schema does not require a property "size""#),
        ("tasks: [{name: a, argv: [/bin/echo, '{size}'], input_schema: {required: [size]}}]",
         #"argv[1] is {size}, but input_schema does not require a property "size""#),
        // input_schema.
        ("tasks: [{name: a, argv: [/bin/true], input_schema: {type: object, pattern: x}}]",
         #"task "a": field "input_schema": invalid schema: keyword "pattern""#),
        ("tasks: [{name: a, argv: [/bin/true], input_schema: {type: stringy}}]", #"task "a": field "input_schema": invalid schema: "#),
        ("tasks: [{name: a, argv: [/bin/true], input_schema: {maximum: .inf}}]",
         #"task "a": field "input_schema": at /maximum: .inf is not a JSON number"#),
        // stdin, output, numbers.
        ("tasks: [{name: a, argv: [/bin/true], stdin: file}]", #"task "a": field "stdin": must be json or none, not file"#),
        ("tasks: [{name: a, argv: [/bin/true], output: xml}]", #"task "a": field "output": must be json or text, not xml"#),
        ("tasks: [{name: a, argv: [/bin/true], stdin: [json]}]", #"task "a": field "stdin": must be a string (line 1)"#),
        ("tasks: [{name: a, argv: [/bin/true], timeout_ms: 0}]", #"task "a": field "timeout_ms": must be an integer from 1 to 86400000, not 0"#),
        ("tasks: [{name: a, argv: [/bin/true], timeout_ms: 10s}]", #"task "a": field "timeout_ms": must be an integer from 1 to 86400000, not 10s"#),
        ("tasks: [{name: a, argv: [/bin/true], timeout_ms: '100'}]", #"task "a": field "timeout_ms": must be an integer"#),
        ("tasks: [{name: a, argv: [/bin/true], max_output_bytes: 2147483648}]",
         #"task "a": field "max_output_bytes": must be an integer from 1 to 1073741824, not 2147483648"#),
        // cwd.
        ("tasks: [{name: a, argv: [/bin/true], cwd: /nonexistent/dir}]",
         #"task "a": field "cwd": /nonexistent/dir: No such file or directory (ENOENT)"#),
        ("tasks: [{name: a, argv: [/bin/true], cwd: tmp}]", #"task "a": field "cwd": tmp must be an absolute path"#),
        ("tasks: [{name: a, argv: [/bin/true], cwd: /bin/sh}]", #"task "a": field "cwd": /bin/sh is not a directory"#),
        // env.
        ("tasks: [{name: a, argv: [/bin/true], env: {allow: [PATH, FORKPOOL_TOKEN]}}]",
         #"task "a": field "env.allow": FORKPOOL_TOKEN is never passed to a command"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {set: {FORKPOOL_TOKEN: x}}}]",
         #"task "a": field "env.set": FORKPOOL_TOKEN is never passed to a command"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {allow: [FORKPOOL_PROGRESS_FD]}}]",
         #"task "a": field "env.allow": FORKPOOL_PROGRESS_FD is set by forkpool itself"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {allow: [A=B]}}]", #"task "a": field "env.allow": "A=B" is not a variable name"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {allow: PATH}}]", #"task "a": field "env.allow": must be a list of variable names"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {set: [A]}}]", #"task "a": field "env.set": must be a mapping of variable names to values"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {set: {A: [1]}}}]", #"task "a": field "env.set": the value of A must be a string"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {set: {1A: x}}}]", #"task "a": field "env.set": "1A" is not a variable name"#),
        ("tasks: [{name: a, argv: [/bin/true], env: {allow: [PATH], pass: [HOME]}}]",
         #"task "a": field "env.pass": unknown field (line 1); env has allow and set"#),
        ("tasks: [{name: a, argv: [/bin/true], env: [PATH]}]", #"task "a": field "env": must be a mapping"#),
    ]

    @Test("refused with a message naming the file, the task and the field", arguments: refusals)
    func refused(_ sample: (yaml: String, message: String)) {
        let message = refusal(sample.yaml)
        #expect(message?.contains(sample.message) == true, "got \(message ?? "no error")")
        #expect(message?.hasPrefix("--config /etc/forkpool.yaml: ") == true)
        #expect(message?.contains("\n") == false, "one line")
    }
}
