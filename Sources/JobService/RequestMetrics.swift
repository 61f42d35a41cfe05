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
    static func route(method: String, path: String) -> Int {
        let method = method == "HEAD" ? "GET" : method
        var template = path
        if path.hasPrefix("/v1/jobs/") {
            let rest = path.dropFirst("/v1/jobs/".count)
            if !rest.isEmpty && !rest.utf8.contains(UInt8(ascii: "/")) { template = "/v1/jobs/{id}" }
        }
        return routes.firstIndex { $0.method == method && $0.path == template } ?? routes.count - 1
    }

    /// The status index; statuses not listed count as "other" (the last index).
    static func status(_ code: Int) -> Int {
        statuses.firstIndex(of: code) ?? statuses.count
    }

    static func statusLabel(_ index: Int) -> String {
        index < statuses.count ? String(statuses[index]) : "other"
    }
}
