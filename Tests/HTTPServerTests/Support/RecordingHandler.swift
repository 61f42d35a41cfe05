import Foundation
import HTTPServer
import ProcessPool

/// A handler that records what it sees and answers by path:
/// - `/suspend?token=N&deadline_ms=M`: suspends on N (deadline M ms, default 10 s);
/// - `/status?code=N`: answers N;
/// - `/no-type`: 200 without Content-Type;
/// - `/wake?token=N`: resumes N from inside the handler (through `resumer`), then answers 200;
/// - anything else: 200 `text/plain` with "METHOD PATH BODYLENGTH" and `X-Echo-Body` for a short body.
final class RecordingHandler: HTTPHandler, @unchecked Sendable {
    private let condition = NSCondition()
    private var handled: [HTTPRequest] = []
    private var events: [String] = []

    /// Set on the loop thread by `RunningServer`: calls `HTTPServer.resume(token:)`.
    var resumer: ((UInt64) -> Void)?

    var requests: [HTTPRequest] { condition.withLock { handled } }
    var eventLog: [String] { condition.withLock { events } }

    func handle(_ request: HTTPRequest) -> HandlerDecision {
        record(request: request, event: "handle \(request.method) \(request.path)")
        switch request.path {
        case "/suspend":
            let token = UInt64(request.queryValue("token") ?? "") ?? 0
            let milliseconds = Int(request.queryValue("deadline_ms") ?? "") ?? 10_000
            record(event: "suspend \(token)")
            return .suspend(token: token, deadline: MonotonicClock.deadline(after: .milliseconds(milliseconds)))
        case "/status":
            return .respond(HTTPResponse(status: Int(request.queryValue("code") ?? "") ?? 200))
        case "/wake":
            let token = UInt64(request.queryValue("token") ?? "") ?? 0
            resumer?(token)
            return .respond(HTTPResponse(status: 200, body: Array("woke \(token)".utf8)))
        case "/no-type":
            return .respond(HTTPResponse(status: 200, body: Array("plain".utf8)))
        default:
            let summary = "\(request.method) \(request.path) \(request.body.count)"
            return .respond(HTTPResponse(
                status: 200, headers: [("Content-Type", "text/plain")], body: Array(summary.utf8)))
        }
    }

    func resumed(_ request: HTTPRequest, token: UInt64, timedOut: Bool) -> HTTPResponse {
        record(event: "resumed \(token) timedOut=\(timedOut)")
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "text/plain")],
            body: Array("resumed \(token) timedOut=\(timedOut)".utf8))
    }

    func bodyTooLarge(_ request: HTTPRequest, limit: Int) -> HTTPResponse {
        record(event: "tooLarge \(request.method) \(request.path) limit=\(limit)")
        let json = #"{"error":{"code":"body_too_large","message":"limit \#(limit)"}}"#
        return HTTPResponse(status: 413, headers: [("Content-Type", "application/json")], body: Array(json.utf8))
    }

    private func record(request: HTTPRequest? = nil, event: String) {
        condition.withLock {
            if let request { handled.append(request) }
            events.append(event)
            condition.broadcast()
        }
    }

    /// Waits until `predicate` holds for the event log; false at the deadline.
    func waitForEvents(timeout: Double = 5, _ predicate: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(events) {
            if !condition.wait(until: deadline) { return predicate(events) }
        }
        return true
    }
}
