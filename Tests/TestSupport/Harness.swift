import Foundation

/// What a finished harness run printed and how it ended.
public struct HarnessOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Standard output split into non-empty lines.
    public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs `forkpool-harness`, the executable that forks and touches System V objects
/// on behalf of the tests: the test runner is multi-threaded and must never fork.
public enum Harness {
    /// The harness binary: `FORKPOOL_HARNESS`, or beside the test runner in the build folder.
    public static var executableURL: URL {
        if let path = ProcessInfo.processInfo.environment["FORKPOOL_HARNESS"] {
            return URL(fileURLWithPath: path)
        }
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("forkpool-harness")
    }

    /// Runs the harness with `arguments` and waits for it; kills it and throws after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: Double = 60) throws -> HarnessOutput {
        let running = try start(arguments)
        return try running.wait(timeout: timeout)
    }

    /// Starts the harness without waiting for it.
    public static func start(_ arguments: [String]) throws -> RunningHarness {
        try RunningHarness(arguments: arguments)
    }
}

/// A harness process under way. Its output is collected on background threads so
/// that a chatty child never blocks on a full pipe.
public final class RunningHarness: @unchecked Sendable {
    public let process = Process()
    private let stdoutCollector: PipeCollector
    private let stderrCollector: PipeCollector

    init(arguments: [String]) throws {
        let out = Pipe()
        let err = Pipe()
        process.executableURL = Harness.executableURL
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        stdoutCollector = PipeCollector(out.fileHandleForReading)
        stderrCollector = PipeCollector(err.fileHandleForReading)
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// Standard output so far.
    public var stdoutSoFar: String { stdoutCollector.text }

    /// Waits until standard output contains a line equal to `line`, or throws after `timeout` seconds.
    public func waitForLine(_ line: String, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stdoutCollector.text.split(separator: "\n").contains(where: { $0 == line }) { return }
            if !process.isRunning && stdoutCollector.finished {
                throw HarnessError("harness ended before printing \(line): \(stderrCollector.text)")
            }
            stdoutCollector.waitForMore(until: deadline)
        }
        throw HarnessError("no line \(line) within \(timeout) s; stdout: \(stdoutCollector.text) stderr: \(stderrCollector.text)")
    }

    /// Sends `signal` to the harness process while it runs (once reaped, its pid may belong to another process).
    public func signal(_ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Waits for the harness to end; kills it and throws after `timeout` seconds.
    public func wait(timeout: Double) throws -> HarnessOutput {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            usleep(5_000)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError("harness \(process.arguments ?? []) still ran after \(timeout) s; stderr: \(stderrCollector.text)")
        }
        process.waitUntilExit()
        stdoutCollector.waitForEnd(until: Date().addingTimeInterval(5))
        stderrCollector.waitForEnd(until: Date().addingTimeInterval(5))
        return HarnessOutput(status: process.terminationStatus, stdout: stdoutCollector.text, stderr: stderrCollector.text)
    }
}

/// Reads a pipe to its end on a thread of its own.
final class PipeCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var data = Data()
    private(set) var finished = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty { finished = true } else { data.append(chunk) }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { break }
            }
        }
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    func waitForMore(until deadline: Date) {
        condition.lock()
        let count = data.count
        while data.count == count && !finished && Date() < deadline {
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        condition.unlock()
    }

    func waitForEnd(until deadline: Date) {
        condition.lock()
        while !finished && Date() < deadline {
            _ = condition.wait(until: deadline)
        }
        condition.unlock()
    }
}
