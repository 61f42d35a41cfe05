import Testing
@testable import JobService

@Suite("Counting requests by route")
struct RequestMetricsTests {
    /// Every route of the table is found at its own index: the matcher and the labels agree.
    @Test func everyListedRouteFindsItsOwnIndex() {
        for (index, route) in RequestMetrics.routes.enumerated() where route.method != "other" {
            let path = route.path.replacingOccurrences(of: "{id}", with: "AAAAAQAAAAIBAgMEBQYHCA")
            #expect(RequestMetrics.route(method: route.method, path: path) == index, "\(route)")
        }
    }

    @Test(arguments: [
        ("HEAD", "/v1/jobs/x", 7), ("PUT", "/v1/jobs", 10), ("GET", "/v1/jobs/", 10), ("GET", "/v1/jobs/a/b", 10),
        ("DELETE", "/v1/jobs", 10), ("POST", "/healthz", 10), ("GET", "/nowhere", 10), ("GET", "/v1/jobsx", 10),
    ])
    func otherMethodsAndPathsCountAsOther(_ method: String, _ path: String, _ expected: Int) {
        #expect(RequestMetrics.route(method: method, path: path) == expected)
    }
}
