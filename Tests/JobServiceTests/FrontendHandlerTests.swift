#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import JSON
import SystemV
import Testing
import TestSupport
@testable import JobService
@testable import JobStore
import Tasks

/// A handler over a real table in a fresh segment, without sockets: the routes in-process.
final class HandlerFixture {
    let key = uniqueTestKey()
    let table: JobTable
    let handler: FrontendHandler
    let wake: EventNotifier
    var resumed: [UInt64] = []

    init(token: String? = nil, queueCapacity: Int = 8) throws {
        var settings = ServiceSettings()
        settings.token = token
        settings.maximumBodyBytes = 4096
        table = try JobTable.create(key: IPCKey(key), layout: TableLayout(jobCapacity: 64, queueCapacity: queueCapacity, dataBytes: 1 << 20),
                                    retentionMs: 60_000)
        try table.recordSupervisor(pid: getpid(), frontends: 1)
        wake = try EventNotifier.make()
        handler = FrontendHandler(table: table, catalog: TaskCatalog.builtIn(), settings: settings, index: 0, poolWake: wake)
        handler.resume = { [unowned self] in resumed.append($0) }
    }

    deinit {
        table.destroy()
        table.detach()
        wake.close()
    }

    func request(_ method: String, _ target: String, body: String = "", headers: [(String, String)] = []) -> HandlerDecision {
        let parts = target.split(separator: "?", maxSplits: 1)
        let query = parts.count > 1 ? parts[1].split(separator: "&").map { item -> (name: String, value: String) in
            let pair = item.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
        } : []
        var allHeaders = headers.map { (name: $0.0.lowercased(), value: $0.1) }
        if method == "POST" && !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            allHeaders.append((name: "content-type", value: "application/json"))
        }
        return handler.handle(HTTPRequest(method: method, path: String(parts[0]), query: query, headers: allHeaders,
                                          body: Array(body.utf8), remoteAddress: "127.0.0.1"))
    }

    /// The answer of a request that must not suspend.
    func respond(_ method: String, _ target: String, body: String = "", headers: [(String, String)] = [],
                 sourceLocation: SourceLocation = #_sourceLocation) -> (status: Int, json: JSONValue, response: HTTPResponse) {
        guard case let .respond(response) = request(method, target, body: body, headers: headers) else {
            Issue.record("\(method) \(target) suspended", sourceLocation: sourceLocation)
            return (0, .null, HTTPResponse(status: 0))
        }
        let json = (try? JSONParser.parse(response.body)) ?? .null
        return (response.status, json, response)
    }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        guard case let .object(object) = self else { return nil }
        return object[key]
    }
    var string: String? {
        guard case let .string(text) = self else { return nil }
        return text
    }
}

func errorCode(_ json: JSONValue) -> String? { json["error"]?["code"]?.string }

@Suite("Routes, in-process over a real table", .serialized)
struct FrontendHandlerTests {
    @Test func submitsAJobAndAnswersWithItsLocation() throws {
        let fixture = try HandlerFixture()
        let answer = fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo", "input": {"b": 1, "a": [true, null]}}"#)
        #expect(answer.status == 202)
        let id = try #require(answer.json["id"]?.string)
        #expect(answer.response.headers.contains { $0.name == "Location" && $0.value == "/v1/jobs/\(id)" })
        #expect(answer.json["state"]?.string == "queued")
        let read = fixture.respond("GET", "/v1/jobs/\(id)")
        #expect(read.status == 200)
        #expect(read.json["task"]?.string == "echo")
    }

    @Test(arguments: [
        ("not json", "body is not a JSON object"),
        ("[1]", "body is not a JSON object"),
        (#"{"input": 1}"#, "missing field \"task\""),
        (#"{"task": 5}"#, "\"task\" must be a string"),
        (#"{"task": "echo", "timeout": 5}"#, "unknown field \"timeout\" (did you mean \"timeout_ms\"?)"),
        (#"{"task": "echo", "priority": 11}"#, "\"priority\" must be an integer from -10 to 10"),
        (#"{"task": "echo", "priority": 1.5}"#, "\"priority\" must be an integer from -10 to 10"),
        (#"{"task": "echo", "max_attempts": 0}"#, "\"max_attempts\" must be an integer from 1 to 10"),
        (#"{"task": "echo", "timeout_ms": 0}"#, "\"timeout_ms\" must be an integer > 0"),
        (#"{"task": "echo", "idempotency_key": ""}"#, "\"idempotency_key\" must be 1 to 128 characters"),
    ])
    func refusesMalformedBodiesWith400(body: String, message: String) throws {
        let fixture = try HandlerFixture()
        let answer = fixture.respond("POST", "/v1/jobs", body: body)
        #expect(answer.status == 400)
        #expect(errorCode(answer.json) == "bad_request")
        #expect(answer.json["error"]?["message"]?.string?.contains(message) == true, "\(answer.json)")
    }

    @Test func refusesUnknownTasksAndBadInputWith422() throws {
        let fixture = try HandlerFixture()
        let unknown = fixture.respond("POST", "/v1/jobs", body: #"{"task": "nope"}"#)
        #expect(unknown.status == 422)
        #expect(errorCode(unknown.json) == "unknown_task")
        let bad = fixture.respond("POST", "/v1/jobs", body: #"{"task": "sleep", "input": {"ms": "soon"}}"#)
        #expect(bad.status == 422)
        #expect(errorCode(bad.json) == "invalid_input")
    }

    @Test func needsAJSONContentType() throws {
        let fixture = try HandlerFixture()
        #expect(fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo"}"#, headers: [("Content-Type", "text/plain")]).status == 415)
        #expect(fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo"}"#,
                                headers: [("Content-Type", "Application/JSON; charset=utf-8")]).status == 202)
    }

    @Test func idempotencyKeysReturnTheFirstJobAndTheHeaderWins() throws {
        let fixture = try HandlerFixture()
        let first = fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo", "input": {"a": 1, "b": 2}, "idempotency_key": "k1"}"#)
        #expect(first.status == 202)
        let again = fixture.respond("POST", "/v1/jobs", body: #"{"task":"echo","input":{"b":2.0,"a":1},"priority":3,"idempotency_key":"k1"}"#)
        #expect(again.status == 200)
        #expect(again.json["id"] == first.json["id"])
        let conflict = fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo", "input": 2, "idempotency_key": "k1"}"#)
        #expect(conflict.status == 409)
        #expect(errorCode(conflict.json) == "idempotency_conflict")
        let header = fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo", "input": 2, "idempotency_key": "k1"}"#,
                                     headers: [("Idempotency-Key", "k2")])
        #expect(header.status == 202, "the header's key wins over the body's")
    }

    @Test func answersTooManyJobsWithRetryAfter() throws {
        let fixture = try HandlerFixture(queueCapacity: 1)
        #expect(fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo"}"#).status == 202)
        let full = fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo"}"#)
        #expect(full.status == 429)
        #expect(full.response.headers.contains { $0.name == "Retry-After" })
    }

    @Test func routesUnknownPathsMethodsAndIDs() throws {
        let fixture = try HandlerFixture()
        #expect(fixture.respond("GET", "/nope").status == 404)
        #expect(fixture.respond("GET", "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA").status == 404)
        #expect(fixture.respond("GET", "/v1/jobs/not-an-id").status == 404)
        let wrong = fixture.respond("PUT", "/v1/jobs")
        #expect(wrong.status == 405)
        #expect(wrong.response.headers.contains { $0.name == "Allow" && $0.value == "GET, POST, HEAD" })
        #expect(fixture.respond("POST", "/healthz").status == 405)
        #expect(fixture.respond("HEAD", "/healthz").status == 200)
    }

    @Test(arguments: ["limit=0", "limit=1001", "limit=x", "state=done", "cursor=zzz", "wait=-1"])
    func refusesBadListParameters(query: String) throws {
        let fixture = try HandlerFixture()
        let path = query.hasPrefix("wait") ? "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA?\(query)" : "/v1/jobs?\(query)"
        #expect(fixture.respond("GET", path).status == (query.hasPrefix("wait") ? 400 : 400))
    }

    @Test(arguments: ["61", "abc", "1e3", "0x10", ".5", "5.", "1.2.3", "nan"])
    func refusesBadWaits(wait: String) throws {
        let fixture = try HandlerFixture()
        let answer = fixture.respond("POST", "/v1/jobs?wait=\(wait)", body: #"{"task": "echo"}"#)
        #expect(answer.status == 400)
        #expect(try fixture.table.status().submittedTotal == 0, "a refused request must not create a job")
    }

    @Test func protectsRoutesWithTheTokenButNotTheProbes() throws {
        let fixture = try HandlerFixture(token: "s3cret")
        let denied = fixture.respond("GET", "/v1/jobs")
        #expect(denied.status == 401)
        #expect(denied.response.headers.contains { $0.name == "WWW-Authenticate" && $0.value == "Bearer" })
        #expect(fixture.respond("GET", "/v1/jobs", headers: [("Authorization", "Bearer s3cre")]).status == 401)
        #expect(fixture.respond("GET", "/v1/jobs", headers: [("Authorization", "Bearer s3cret!")]).status == 401)
        #expect(fixture.respond("GET", "/v1/jobs", headers: [("Authorization", "Bearer s3cret")]).status == 200)
        for path in ["/healthz", "/readyz", "/metrics"] { #expect(fixture.respond("GET", path).status == 200) }
    }

    @Test func longPollsSuspendAndResumeWhenTheJobFinishes() throws {
        let fixture = try HandlerFixture()
        let submitted = fixture.respond("POST", "/v1/jobs", body: #"{"task": "echo", "input": "hi"}"#)
        let id = try #require(submitted.json["id"]?.string)
        guard case let .suspend(token, _) = fixture.request("GET", "/v1/jobs/\(id)?wait=5") else {
            Issue.record("an unfinished job with wait must suspend")
            return
        }
        #expect(try fixture.table.frontendsWaiting() == [0])
        fixture.handler.checkWaiters()
        #expect(fixture.resumed.isEmpty, "nothing finished yet")
        let jobID = try #require(JobID(id))
        _ = try fixture.table.takeQueued(limit: 1)
        _ = try fixture.table.finish(jobID, outcome: .succeeded(Array(#""hi""#.utf8)), retryable: false)
        fixture.handler.checkWaiters()
        #expect(fixture.resumed == [token])
        let answer = fixture.handler.resumed(HTTPRequest(method: "GET", path: "/v1/jobs/\(id)", query: [], headers: [], body: [],
                                                         remoteAddress: "127.0.0.1"), token: token, timedOut: false)
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self).contains(#""result":"hi""#))
        #expect(try fixture.table.frontendsWaiting() == [])
    }

    @Test func everyErrorHasTheOneShape() throws {
        let fixture = try HandlerFixture()
        for (method, path, body) in [("GET", "/x", ""), ("PUT", "/v1/jobs", ""), ("POST", "/v1/jobs", "{")] {
            let answer = fixture.respond(method, path, body: body)
            guard case let .object(object) = answer.json, object.count == 1, case let .object(error)? = object["error"] else {
                Issue.record("\(method) \(path): \(answer.json)")
                continue
            }
            #expect(Set(error.keys) == ["code", "message"])
            #expect(answer.response.headers.contains { $0.name == "Content-Type" && $0.value == "application/json" })
        }
    }
}
