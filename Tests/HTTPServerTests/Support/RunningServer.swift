import Foundation
import HTTPServer
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Carries a value that is handed to exactly one other thread, and used only there until
/// that thread signals back.
private struct HandOver<Value>: @unchecked Sendable {
    let value: Value
}

/// An `HTTPServer` whose loop runs on its own thread, steered through a pipe the loop watches
/// (the same way the service steers it with eventfds):
/// `S` stops the loop, `Q` stops accepting, `R` + 8 bytes (little-endian) resumes a token,
/// `C` counts connections and requests.
final class RunningServer: @unchecked Sendable {
    static let threadName = "http-test-loop"

    let port: Int
    let handler: RecordingHandler
    private let controlRead: Int32
    private let controlWrite: Int32
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var logLines: [String] = []
    private var stopped = false
    /// Read after the loop thread has finished.
    private(set) var requestsInProgressBeforeClose = -1
    private(set) var requestsInProgressAfterClose = -1
    private let counted = DispatchSemaphore(value: 0)
    private var counts = (openConnections: -1, requestsInProgress: -1)

    init(handler: RecordingHandler = RecordingHandler(), configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var configuration = HTTPServerConfiguration()
        configuration.defaultHeaders = [("X-Test-Frontend", "4242")]
        configure(&configuration)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ClientError("pipe failed") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        controlRead = fds[0]
        controlWrite = fds[1]
        self.handler = handler
        let server: HTTPServer
        do {
            let sink = LogSink()
            server = try HTTPServer(configuration: configuration, handler: handler, logger: { sink.append($0) })
            logSink = sink
        } catch {
            Glibc.close(fds[0])
            Glibc.close(fds[1])
            throw error
        }
        port = server.port
        let handOver = HandOver(value: server)
        let thread = Thread { [self] in
            // Named through /proc so the lifecycle test can find it in /proc/self/task/*/comm.
            try? Self.threadName.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            self.loop(handOver.value)
        }
        thread.start()
    }

    private let logSink: LogSink

    var log: [String] { logSink.lines }

    private func loop(_ server: HTTPServer) {
        var stop = false
        var pending: [UInt8] = []
        handler.resumer = { server.resume(token: $0) }
        defer { handler.resumer = nil }
        server.run(
            watching: [controlRead],
            onReadable: { fd in
                var chunk = [UInt8](repeating: 0, count: 512)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count <= 0 { break }
                    pending += chunk[0..<count]
                }
                while let command = pending.first {
                    switch command {
                    case UInt8(ascii: "S"):
                        stop = true
                        pending.removeFirst()
                    case UInt8(ascii: "C"):
                        let sample = (server.openConnections, server.requestsInProgress)
                        lock.withLock { counts = sample }
                        counted.signal()
                        pending.removeFirst()
                    case UInt8(ascii: "Q"):
                        server.stopAccepting()
                        pending.removeFirst()
                    case UInt8(ascii: "R"):
                        guard pending.count >= 9 else { return }
                        let token = pending[1..<9].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                        pending.removeFirst(9)
                        server.resume(token: token)
                    default:
                        pending.removeFirst()
                    }
                }
            },
            shouldStop: { stop })
        requestsInProgressBeforeClose = server.requestsInProgress
        server.stopAccepting()
        server.close()
        requestsInProgressAfterClose = server.requestsInProgress
        finished.signal()
    }

    private func command(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(controlWrite, $0.baseAddress, $0.count) }
    }

    /// Resumes `token` from the loop thread, as the service does when an eventfd fires.
    func resume(token: UInt64) {
        command([UInt8(ascii: "R")] + (0..<8).map { UInt8(truncatingIfNeeded: token >> (8 * UInt64($0))) })
    }

    func stopAccepting() { command([UInt8(ascii: "Q")]) }

    /// `HTTPServer.openConnections` and `requestsInProgress`, read on the loop thread; nil if it does not answer.
    func count(timeout: Double = 5) -> (openConnections: Int, requestsInProgress: Int)? {
        command([UInt8(ascii: "C")])
        guard counted.wait(timeout: .now() + timeout) == .success else { return nil }
        return lock.withLock { counts }
    }

    /// Stops the loop, stops accepting and closes the server; waits for the loop thread.
    @discardableResult
    func stop(timeout: Double = 10) -> Bool {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return true }
        command([UInt8(ascii: "S")])
        let done = finished.wait(timeout: .now() + timeout) == .success
        if done {
            Glibc.close(controlRead)
            Glibc.close(controlWrite)
        } else {
            Issue.record("the server loop did not stop within \(timeout) s")
        }
        return done
    }
}

/// Collects the server's log lines from the loop thread.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    func append(_ line: String) { lock.withLock { collected.append(line) } }
    var lines: [String] { lock.withLock { collected } }
}
