/// What the handler does with a request.
public enum HandlerDecision: Sendable {
    /// Answers at once.
    case respond(HTTPResponse)
    /// Holds the connection (`MHD_suspend_connection`) until `HTTPServer.resume(token:)` or the
    /// deadline, a `MonotonicClock` instant; then `HTTPHandler.resumed` produces the answer.
    /// Several requests may wait on the same token; a resume releases them all.
    case suspend(token: UInt64, deadline: UInt64)
}

/// The application behind an `HTTPServer`. Every method is called on the loop thread,
/// the one running `HTTPServer.run`.
public protocol HTTPHandler: AnyObject {
    /// Answers or suspends a fully received request.
    func handle(_ request: HTTPRequest) -> HandlerDecision
    /// Called on the loop thread for a suspended request, once, when resumed (`timedOut` false)
    /// or at its deadline (`timedOut` true).
    func resumed(_ request: HTTPRequest, token: UInt64, timedOut: Bool) -> HTTPResponse
    /// The answer for a body over the limit (the service builds its JSON 413 here).
    /// `request.body` is empty or partial.
    func bodyTooLarge(_ request: HTTPRequest, limit: Int) -> HTTPResponse
}
