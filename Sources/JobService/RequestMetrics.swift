#if canImport(Glibc)
import Glibc
#endif

/// The routes and statuses `forkpool_http_requests_total` counts, as indices into
/// the shared metrics area (at most 16 of each).
enum RequestMetrics {
    static let routes: [(method: String, path: String)] = [
        ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/v1/status"), ("GET", "/v1/tasks"),
        ("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/v1/jobs/{id}"), ("DELETE", "/v1/jobs/{id}"), ("GET", "/"),
        ("other", "other"),
    ]
    static let statuses = [200, 202, 400, 401, 404, 405, 409, 413, 415, 422, 429, 500, 503]

    /// The route index of a request: its template, or "other" for unknown routes and methods.
    /// Compares in place (no copies): it runs for every request.
    static func route(method: String, path: String) -> Int {
        let isGet = method == "GET" || method == "HEAD"
        let template: Int?
        switch path {
        case "/healthz": template = isGet ? 0 : nil
        case "/readyz": template = isGet ? 1 : nil
        case "/metrics": template = isGet ? 2 : nil
        case "/v1/status": template = isGet ? 3 : nil
        case "/v1/tasks": template = isGet ? 4 : nil
        case "/v1/jobs": template = isGet ? 5 : method == "POST" ? 6 : nil
        case "/": template = isGet ? 9 : nil
        default:
            guard isJobPath(path) else { template = nil; break }
            template = isGet ? 7 : method == "DELETE" ? 8 : nil
        }
        return template ?? routes.count - 1
    }

    /// `/v1/jobs/{id}`: one non-empty segment after the prefix (the router asks too).
    static func isJobPath(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { bytes in
            let prefix: StaticString = "/v1/jobs/"
            guard bytes.count > prefix.utf8CodeUnitCount,
                  memcmp(bytes.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0 else { return false }
            return !bytes[prefix.utf8CodeUnitCount...].contains(UInt8(ascii: "/"))
        }
    }

    /// The status index; statuses not listed count as "other" (the last index).
    static func status(_ code: Int) -> Int {
        statuses.firstIndex(of: code) ?? statuses.count
    }

    static func statusLabel(_ index: Int) -> String {
        index < statuses.count ? String(statuses[index]) : "other"
    }
}
