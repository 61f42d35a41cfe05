import JSON
import ProcessPool
import Testing
@testable import Tasks

/// A command task without touching the file system.
private func task(_ arguments: [CommandTask.Argument] = [.literal("/bin/cat")], stdin: CommandTask.StandardInput = .none,
                  output: CommandTask.OutputFormat = .text, allowed: [String] = [],
                  fixed: [CommandTask.FixedVariable] = []) -> CommandTask {
    CommandTask(name: "t", description: "", inputSchema: try! JSONSchema(.object(JSONObject())), arguments: arguments,
                executablePath: "/bin/cat", standardInput: stdin, outputFormat: output,
                allowedVariables: allowed, fixedVariables: fixed)
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The TaskError's message, or nil when the call succeeded.
private func failure<T>(_ body: () throws -> T) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as TaskError {
        return error.message
    } catch {
        return "unexpected \(error)"
    }
}

@Suite("Command tasks: argv substitution")
struct ArgumentSubstitutionTests {
    let template = task([.literal("/bin/printf"), .literal("{name}x"), .field("name"), .literal("--"), .field("n")])

    @Test func aFieldBecomesOneWholeArgumentWhateverItHolds() throws {
        let hostile = #"a b "c"; touch /tmp/x $(id) `id` | & > < * ? ~ \ ' {n}"#
        let input = JSONWriter.encode(["name": .string(hostile), "n": 1])
        let argv = try template.invocation(for: input).arguments
        #expect(argv == ["/bin/printf", "{name}x", hostile, "--", "1"])
    }

    @Test("numbers keep the text the client wrote; booleans are true and false", arguments: [
        (#"{"name": "a", "n": 1.50}"#, "1.50"), (#"{"name": "a", "n": -3}"#, "-3"), (#"{"name": "a", "n": 1e3}"#, "1e3"),
        (#"{"name": "a", "n": 12345678901234567890123}"#, "12345678901234567890123"),
        (#"{"name": "a", "n": true}"#, "true"), (#"{"name": "a", "n": false}"#, "false"), (#"{"n": 0, "name": "a"}"#, "0"),
        (#"{"name": "a", "n": ""}"#, ""), (#"{"name": "a", "n": "é\n\t"}"#, "é\n\t"),
    ])
    func scalarFields(_ sample: (String, String)) throws {
        #expect(try template.invocation(for: bytes(sample.0)).arguments.last == sample.1)
    }

    @Test("a missing field, or one that is not a scalar, fails the job naming the field", arguments: [
        (#"{"name": "a"}"#, #"input field "n" is missing (argv[4] is {n})"#),
        (#"{"name": "a", "n": null}"#, #"input field "n" must be a string, a number or a boolean to fill argv[4], not null"#),
        (#"{"name": "a", "n": [1]}"#, #"input field "n" must be a string, a number or a boolean to fill argv[4], not array"#),
        (#"{"name": "a", "n": {"x": 1}}"#, #"input field "n" must be a string, a number or a boolean to fill argv[4], not object"#),
        (#"{"name": "a\u0000b", "n": 1}"#, #"input field "name" contains a NUL character, which no argument can hold"#),
        (#"[1, 2]"#, #"argv[2] is {name}, but the input is not a JSON object with a field "name""#),
        (#""#, #"argv[2] is {name}, but the input is not a JSON object with a field "name""#),
        (#"{"name": "#, "input is not valid JSON: "),
    ])
    func refusedFields(_ sample: (String, String)) {
        let message = failure { try template.invocation(for: bytes(sample.0)) }
        #expect(message?.hasPrefix(sample.1) == true, "got \(message ?? "success")")
    }

    @Test func fieldNamesMatchByteForByte() {
        // "é" precomposed in the template, decomposed in the input: not the same JSON key.
        let composed = task([.literal("/bin/echo"), .field("\u{E9}")])
        let message = failure { try composed.invocation(for: bytes("{\"e\u{301}\": 1}")) }
        #expect(message?.hasPrefix("input field \"\u{E9}\" is missing") == true)
    }

    @Test func standardInputIsOneLineOfCompactJSONOrNothing() throws {
        let json = task(stdin: .json)
        #expect(try json.invocation(for: bytes("{\n  \"a\": [1, 2.5, \"x\\ny\"]\n}")).standardInput == bytes(#"{"a":[1,2.5,"x\ny"]}"# + "\n"))
        #expect(try json.invocation(for: []).standardInput == bytes("null\n"))
        #expect(try task(stdin: .none).invocation(for: bytes("{}")).standardInput == nil)
    }
}

@Suite("Command tasks: the environment")
struct CommandEnvironmentTests {
    let server = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/root", "SECRET": "s3", "FORKPOOL_TOKEN": "t0ken",
                  "MODE": "slow"]

    @Test func onlyAllowedFixedAndTheProgressDescriptor() {
        let environment = task(allowed: ["PATH", "LANG", "NOT_SET"], fixed: [.init(name: "MODE", value: "fast")])
            .environment(from: server)
        #expect(environment == ["FORKPOOL_PROGRESS_FD=3", "LANG=C.UTF-8", "MODE=fast", "PATH=/usr/bin:/bin"])
    }

    @Test func nothingWithoutAnAllowList() {
        #expect(task().environment(from: server) == ["FORKPOOL_PROGRESS_FD=3"])
    }

    @Test func theTokenAndTheProgressDescriptorCannotBeOverridden() {
        // The configuration refuses both names; a task built in code gets the same guarantee.
        let environment = task(allowed: ["FORKPOOL_TOKEN", "HOME"],
                               fixed: [.init(name: "FORKPOOL_TOKEN", value: "x"), .init(name: "FORKPOOL_PROGRESS_FD", value: "7")])
            .environment(from: server)
        #expect(environment == ["FORKPOOL_PROGRESS_FD=3", "HOME=/root"])
    }

    @Test func valuesArePassedAsTheyAre() {
        let environment = task(fixed: [.init(name: "A", value: "x=y z;$(id)"), .init(name: "B", value: "")]).environment(from: [:])
        #expect(environment == ["A=x=y z;$(id)", "B=", "FORKPOOL_PROGRESS_FD=3"])
    }
}

@Suite("Command tasks: decoding how a command ended")
struct CommandResultTests {
    @Test func jsonOutputIsKeptAsTheCommandWroteIt() throws {
        let result = try task(output: .json).result(of: .exited(code: 0), stdout: bytes(" {\"n\": 1.50, \"big\": 123456789012345678901}\n"),
                                                    stderrTail: bytes("ignored"))
        #expect(text(result) == #"{"exit_code":0,"output":{"n": 1.50, "big": 123456789012345678901}}"#)
        #expect(try JSONParser.parse(result)["output"]?["n"] == .double(1.5))
    }

    @Test("output that is not one JSON value fails the job", arguments: [
        ("", "command output is not valid JSON: the command wrote nothing"),
        ("1 2", "command output is not valid JSON: "), ("{\"a\": }", "command output is not valid JSON: "),
        ("hello", "command output is not valid JSON: "), ("\n\n", "command output is not valid JSON: the command wrote nothing"),
    ])
    func invalidJSONOutput(_ sample: (String, String)) {
        let message = failure { try task(output: .json).result(of: .exited(code: 0), stdout: bytes(sample.0), stderrTail: []) }
        #expect(message?.hasPrefix(sample.1) == true, "got \(message ?? "success")")
    }

    @Test func textOutputIsAJSONStringOfEveryByte() throws {
        let result = try task(output: .text).result(of: .exited(code: 0), stdout: bytes("3 \"quoted\"\t\\\n"), stderrTail: [])
        #expect(text(result) == #"{"exit_code":0,"output":"3 \"quoted\"\t\\\n"}"#)
        let invalid = try task(output: .text).result(of: .exited(code: 0), stdout: [0x61, 0xFF, 0x62], stderrTail: [])
        #expect(try JSONParser.parse(invalid)["output"] == .string("a\u{FFFD}b"))
        #expect(text(try task().result(of: .exited(code: 0), stdout: [], stderrTail: [])) == #"{"exit_code":0,"output":""}"#)
    }

    @Test func aNonZeroExitNamesTheCodeAndTheTailOfStandardError() {
        #expect(failure { try task().result(of: .exited(code: 3), stdout: bytes("out"), stderrTail: bytes("first\nlast line\n")) }
                == "command exited with code 3: first\nlast line")
        #expect(failure { try task().result(of: .exited(code: 1), stdout: [], stderrTail: []) } == "command exited with code 1")
        #expect(failure { try task().result(of: .exited(code: 2), stdout: [], stderrTail: bytes(" \n ")) } == "command exited with code 2")
    }

    @Test func aSignalIsNamed() {
        #expect(failure { try task().result(of: .signaled(signal: 9), stdout: [], stderrTail: bytes("oops\n")) }
                == "command was killed by SIGKILL: oops")
        #expect(failure { try task().result(of: .signaled(signal: 11), stdout: [], stderrTail: []) } == "command was killed by SIGSEGV")
    }

    @Test func aTailCutInsideAUTF8SequenceLosesOnlyThatCharacter() {
        // "é" is C3 A9: a tail starting at A9 drops it rather than showing U+FFFD.
        #expect(CommandTask.withTail("m", [0xA9] + bytes("rest")) == "m: rest")
    }

    @Test func theWholeMessageFitsWhatTheJobTableKeeps() throws {
        let tail = bytes(String(repeating: "x", count: 5000) + "the end\n")
        let message = try #require(failure { try task().result(of: .exited(code: 1), stdout: [], stderrTail: tail) })
        #expect((4090...4096).contains(message.utf8.count))
        #expect(message.hasPrefix("command exited with code 1: xxx") && message.hasSuffix("xxxthe end"))
    }

    @Test func theOutputLimitMessageNamesTheLimit() {
        #expect(task().outputTooLargeMessage == "command output exceeded max_output_bytes (1048576 bytes); the command was killed")
    }
}

@Suite("Command tasks: progress lines and the tail of standard error")
struct CommandStreamTests {
    @Test("progress lines: PERCENT [MESSAGE]", arguments: [
        ("50", 50.0, ""), ("12.5 halfway there", 12.5, "halfway there"), ("  7\tstep  two  \r", 7, "step  two"),
        ("1e2 done", 100, "done"), ("-5", -5, ""), ("100", 100, ""), ("0 ", 0, ""),
    ])
    func progressLines(_ sample: (String, Double, String)) {
        #expect(CommandTask.progress(fromLine: bytes(sample.0)) == Progress(percent: sample.1, message: sample.2))
    }

    @Test("not progress", arguments: ["", "abc", "nan", "inf 5", "0x10", "50%", "fifty percent", "1e999"])
    func notProgress(_ line: String) {
        #expect(CommandTask.progress(fromLine: bytes(line)) == nil)
    }

    @Test func aLongMessageIsCutAtACharacterBoundary() throws {
        let progress = try #require(CommandTask.progress(fromLine: bytes("5 " + String(repeating: "é", count: 600))))
        #expect(progress.message == String(repeating: "é", count: 512))
    }

    @Test func progressLinesArriveInPiecesAndTheLastNeedsNoNewline() {
        var reader = CommandTask.ProgressReader()
        var seen: [Progress] = []
        for piece in ["1", "0 fir", "st\n20\n", "garbage\n", String(repeating: "9", count: 5000) + "\n", "30 last"] {
            reader.feed(bytes(piece)) { seen.append($0) }
        }
        #expect(seen == [Progress(percent: 10, message: "first"), Progress(percent: 20)])
        reader.finish { seen.append($0) }
        #expect(seen.last == Progress(percent: 30, message: "last"))
    }

    @Test func stderrProgressLinesAreReportedAndLeftOutOfTheTail() {
        var collector = CommandTask.StderrCollector()
        var seen: [Progress] = []
        collector.feed(bytes("warming up\nFORKPOOL_PROGRESS 40 loading\nFORKPOOL_PROGRESSIVE 1\nFORKPOOL_PROGRESS nope\n")) { seen.append($0) }
        collector.finish { seen.append($0) }
        #expect(seen == [Progress(percent: 40, message: "loading")])
        #expect(text(collector.tail) == "warming up\nFORKPOOL_PROGRESSIVE 1\nFORKPOOL_PROGRESS nope\n")
    }

    @Test func theTailKeepsTheLast4KiB() {
        var collector = CommandTask.StderrCollector()
        let long = String(repeating: "x", count: 10_000) + "\n"
        for index in 0..<50 { collector.feed(bytes("line \(index)\n" + (index == 10 ? long : ""))) { _ in } }
        collector.finish { _ in }
        #expect(collector.tail.count == 4096)
        #expect(text(collector.tail).hasSuffix("line 48\nline 49\n"))
    }
}
