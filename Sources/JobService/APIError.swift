import HTTPServer
import JSON

/// An error answer: status, code and message, rendered in exactly one place as
/// `{"error": {"code": "...", "message": "..."}}`.
public struct APIError: Error, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    public var headers: [(name: String, value: String)] = []

    public init(status: Int, code: String, message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> APIError { APIError(status: 400, code: "bad_request", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: 404, code: "not_found", message: message) }
    static func unauthorized() -> APIError {
        APIError(status: 401, code: "unauthorized", message: "this server needs Authorization: Bearer <token>",
                 headers: [("WWW-Authenticate", "Bearer")])
    }
    static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> APIError {
        APIError(status: 405, code: "method_not_allowed", message: "\(method) is not allowed on \(path); allowed: \(allowed.joined(separator: ", "))",
                 headers: [("Allow", allowed.joined(separator: ", "))])
    }
    static func unprocessable(_ code: String, _ message: String) -> APIError { APIError(status: 422, code: code, message: message) }
    static func shuttingDown() -> APIError {
        APIError(status: 503, code: "shutting_down", message: "the server is draining and accepts no new jobs")
    }
    static func unavailable(_ message: String) -> APIError { APIError(status: 503, code: "unavailable", message: message) }
    static func tooManyJobs(_ message: String) -> APIError {
        APIError(status: 429, code: "queue_full", message: message, headers: [("Retry-After", "1")])
    }

    /// The response for this error.
    public var response: HTTPResponse {
        let body = JSONValue.object(JSONObject([("error", .object(JSONObject([("code", .string(code)), ("message", .string(message))])))]))
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                            body: JSONWriter.encode(body))
    }
}
