import HTTPServer
import JobStore
import Logging
import JSON
import ProcessPool
import Tasks

/// The contract's routes, answered from the shared job table.
///
/// One instance per front-end process; libmicrohttpd calls it on the process's
/// single loop thread, so its own state needs no lock. Long polls suspend the
/// connection and are resumed when the pool signals that jobs finished.
public final class FrontendHandler: HTTPHandler {
    let table: JobTable
    let catalog: TaskCatalog
    let settings: ServiceSettings
    let index: Int
    /// Wakes the pool when a job was queued or canceled.
    let poolWake: EventNotifier

    /// What a suspended request waits for.
    struct Waiter {
        let job: JobID
        /// POST ?wait answers 200 when finished in time, else 202; GET always 200.
        let isSubmission: Bool
    }
    var waiters: [UInt64: Waiter] = [:]
    var nextToken: UInt64 = 1
    /// Requests answered since the count was last added to the table.
    var unrecordedRequests: UInt64 = 0
    /// Called when waiters are ready to be answered (the front-end resumes them).
    var resume: (UInt64) -> Void = { _ in }
    /// Job events (accepted, canceled) at debug and info level, with the job's id.
    public var logger = Logger(label: "forkpool", factory: { _ in SwiftLogNoOpLogHandler() })

    public init(table: JobTable, catalog: TaskCatalog, settings: ServiceSettings, index: Int, poolWake: EventNotifier) {
        self.table = table
        self.catalog = catalog
        self.settings = settings
        self.index = index
        self.poolWake = poolWake
    }

    // MARK: HTTPHandler

    public func handle(_ request: HTTPRequest) -> HandlerDecision {
        unrecordedRequests += 1
        let decision: HandlerDecision
        do {
            decision = try route(request)
        } catch let error as APIError {
            decision = .respond(error.response)
        } catch {
            decision = .respond(internalError(error).response)
        }
        // A suspended request is counted when it is answered.
        if case let .respond(response) = decision { count(request, response) }
        return decision
    }

    private func count(_ request: HTTPRequest, _ response: HTTPResponse) {
        table.countRequest(route: RequestMetrics.route(method: request.method, path: request.path),
                           status: RequestMetrics.status(response.status))
    }

    public func resumed(_ request: HTTPRequest, token: UInt64, timedOut: Bool) -> HTTPResponse {
        let response = answerResumed(token: token)
        count(request, response)
        return response
    }

    private func answerResumed(token: UInt64) -> HTTPResponse {
        guard let waiter = waiters.removeValue(forKey: token) else {
            return APIError(status: 500, code: "internal", message: "lost track of a long poll").response
        }
        do {
            let job = try table.job(waiter.job, frontend: index, requests: takeUnrecordedRequests(), waiting: waiters.count)
            guard let job else { throw APIError.notFound("job \(waiter.job) is gone") }
            if waiter.isSubmission {
                return jobResponse(job, status: job.state.isFinished ? 200 : 202, location: true)
            }
            return jobResponse(job, status: 200)
        } catch let error as APIError {
            return error.response
        } catch {
            return internalError(error).response
        }
    }

    public func bodyTooLarge(_ request: HTTPRequest, limit: Int) -> HTTPResponse {
        unrecordedRequests += 1
        let response = APIError(status: 413, code: "payload_too_large", message: "the body is larger than the limit of \(limit) bytes").response
        count(request, response)
        return response
    }

    // MARK: Routing

    static let openPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    func route(_ request: HTTPRequest) throws -> HandlerDecision {
        let method = request.method == "HEAD" ? "GET" : request.method
        let path = request.path
        if !Self.openPaths.contains(path) { try authenticate(request) }
        switch path {
        case "/":
            try allow(method, ["GET"], request)
            let html = StatusPage.html(try table.status(), table.metricsSnapshot())
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(html.utf8)))
        case "/healthz":
            try allow(method, ["GET"], request)
            return .respond(json(200, #"{"status":"ok"}"#))
        case "/readyz":
            try allow(method, ["GET"], request)
            if try table.isDraining() {
                return .respond(APIError(status: 503, code: "not_ready", message: "the server is draining").response)
            }
            return .respond(json(200, #"{"status":"ready"}"#))
        case "/metrics":
            try allow(method, ["GET"], request)
            recordActivity()
            let text = StatusReport.metrics(try table.status(), table.metricsSnapshot())
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                         body: Array(text.utf8)))
        case "/v1/status":
            try allow(method, ["GET"], request)
            recordActivity()
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/json")],
                                         body: JSONWriter.encode(StatusReport.json(try table.status()))))
        case "/v1/tasks":
            try allow(method, ["GET"], request)
            return .respond(tasksResponse())
        case "/v1/jobs":
            try allow(method, ["GET", "POST"], request)
            return method == "POST" ? try submit(request) : .respond(try list(request))
        default:
            guard RequestMetrics.isJobPath(path) else { throw APIError.notFound("no route \(path)") }
            let text = path.dropFirst("/v1/jobs/".count)
            try allow(method, ["GET", "DELETE"], request)
            guard let id = JobID(text) else { throw APIError.notFound("no job \(text)") }
            return method == "DELETE" ? .respond(try cancel(id)) : try get(id, request)
        }
    }

    private func allow(_ method: String, _ allowed: [String], _ request: HTTPRequest) throws {
        guard allowed.contains(method) else {
            let listed = allowed.contains("GET") ? allowed + ["HEAD"] : allowed
            throw APIError.methodNotAllowed(request.method, path: request.path, allowed: listed)
        }
    }

    /// Checks the bearer token in constant time (the comparison never stops at the first difference).
    private func authenticate(_ request: HTTPRequest) throws {
        guard let token = settings.token else { return }
        guard let header = request.header("authorization"), header.count > 7,
              header.prefix(7).lowercased() == "bearer " else { throw APIError.unauthorized() }
        let given = Array(header.dropFirst(7).utf8)
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for position in 0..<expected.count {
            difference |= expected[position] ^ (position < given.count ? given[position] : 0)
        }
        guard difference == 0 else { throw APIError.unauthorized() }
    }

    // MARK: Routes

    private func submit(_ request: HTTPRequest) throws -> HandlerDecision {
        guard let contentType = request.header("content-type"),
              contentType.split(separator: ";").first?.trimmingSpaces.lowercased() == "application/json" else {
            throw APIError(status: 415, code: "unsupported_media_type", message: "POST needs Content-Type: application/json")
        }
        let wait = try waitSeconds(request)
        let submission = try SubmitRequest(body: request.body, headerKey: request.header("idempotency-key"),
                                           catalog: catalog, settings: settings)
        switch try table.submit(submission.newJob) {
        case let .created(job):
            poolWake.signal()
            logger.debug("job accepted", metadata: ["job_id": "\(job.id)", "task": "\(job.task)"])
            if let wait, wait > 0 { return try waitFor(job, seconds: wait, isSubmission: true) }
            return .respond(jobResponse(job, status: 202, location: true))
        case let .existing(job):
            if let wait, wait > 0, !job.state.isFinished { return try waitFor(job, seconds: wait, isSubmission: true) }
            return .respond(jobResponse(job, status: 200, location: true))
        case let .conflict(job):
            throw APIError(status: 409, code: "idempotency_conflict",
                           message: "idempotency key already used by job \(job.id) with another task or input")
        case let .queueFull(capacity):
            throw APIError.tooManyJobs("the queue is full (\(capacity) jobs); retry later")
        case let .tableFull(reason):
            throw APIError.tooManyJobs("no room for another job: \(reason); retry later")
        case .draining:
            throw APIError.shuttingDown()
        }
    }

    private func get(_ id: JobID, _ request: HTTPRequest) throws -> HandlerDecision {
        let wait = try waitSeconds(request)
        guard let job = try table.job(id) else { throw APIError.notFound("no job \(id)") }
        if let wait, wait > 0, !job.state.isFinished { return try waitFor(job, seconds: wait, isSubmission: false) }
        return .respond(jobResponse(job, status: 200))
    }

    private func cancel(_ id: JobID) throws -> HTTPResponse {
        switch try table.cancel(id) {
        case let .canceled(job):
            if job.startedAt != nil { poolWake.signal() }
            logger.info("job canceled", metadata: ["job_id": "\(job.id)", "task": "\(job.task)"])
            return jobResponse(job, status: 200)
        case let .alreadyFinished(job):
            throw APIError(status: 409, code: "already_finished", message: "job \(job.id) already finished (\(job.state.name))")
        case .notFound:
            throw APIError.notFound("no job \(id)")
        }
    }

    private func list(_ request: HTTPRequest) throws -> HTTPResponse {
        var state: JobState?
        if let text = request.queryValue("state") {
            guard let parsed = JobState(name: text) else {
                throw APIError.badRequest("state must be one of queued, running, succeeded, failed, canceled")
            }
            state = parsed
        }
        var limit = 50
        if let text = request.queryValue("limit") {
            guard let parsed = Int(text), (1...1000).contains(parsed) else { throw APIError.badRequest("limit must be an integer from 1 to 1000") }
            limit = parsed
        }
        var cursor: ListCursor?
        if let text = request.queryValue("cursor") {
            guard let parsed = ListCursor(text) else { throw APIError.badRequest("cursor is not one this server gave out") }
            cursor = parsed
        }
        let page = try table.list(state: state, task: request.queryValue("task"), limit: limit, cursor: cursor)
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: JobRendering.encode(page))
    }

    private func tasksResponse() -> HTTPResponse {
        let tasks = catalog.all.map { definition in
            JSONValue.object(JSONObject([
                ("name", .string(definition.name)), ("description", .string(definition.description)),
                ("input_schema", definition.inputSchema.source),
            ]))
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")],
                            body: JSONWriter.encode(.object(JSONObject([("tasks", .array(tasks))]))))
    }

    // MARK: Long polls

    /// `wait=S`: 0 to the maximum, decimal seconds allowed; nil when absent.
    private func waitSeconds(_ request: HTTPRequest) throws -> Double? {
        guard let text = request.queryValue("wait") else { return nil }
        let isDecimal = !text.isEmpty && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 46 }
            && text.utf8.filter { $0 == 46 }.count <= 1 && text.utf8.first != 46 && text.utf8.last != 46
        guard isDecimal, let seconds = Double(text), seconds <= Double(settings.maximumWaitSeconds) else {
            throw APIError.badRequest("wait must be a number of seconds from 0 to \(settings.maximumWaitSeconds)")
        }
        return seconds
    }

    private func waitFor(_ job: JobSnapshot, seconds: Double, isSubmission: Bool) throws -> HandlerDecision {
        let token = nextToken
        nextToken += 1
        waiters[token] = Waiter(job: job.id, isSubmission: isSubmission)
        // The waiter is published and the job looked at under one lock: a job that
        // finishes after this look is sure to find our count set, and the pool wakes us.
        let watch = try table.watch(job.id, frontend: index, requests: takeUnrecordedRequests(), waiting: waiters.count)
        switch watch {
        case .waiting:
            break
        case let .finished(latest):
            // Our count stays one too high until the next record: at worst one needless wake-up.
            waiters.removeValue(forKey: token)
            return .respond(jobResponse(latest, status: 200, location: isSubmission))
        case .gone:
            waiters.removeValue(forKey: token)
            throw APIError.notFound("no job \(job.id)")
        }
        let deadline = MonotonicClock.deadline(after: .milliseconds(Int64(seconds * 1000)))
        return .suspend(token: token, deadline: deadline)
    }

    /// Resumes every waiter whose job finished; called when the pool signals.
    public func checkWaiters() {
        guard !waiters.isEmpty else { return }
        let tokens = Array(waiters.keys)
        guard let finished = try? table.finished(tokens.map { waiters[$0]!.job }) else { return }
        for (token, done) in zip(tokens, finished) where done { resume(token) }
    }

    /// Answers every waiter now (at shutdown).
    public func resumeAllWaiters() {
        for token in waiters.keys { resume(token) }
    }

    /// Adds this front-end's request count and waiting connections to the table.
    public func recordActivity() {
        try? table.recordFrontendActivity(index: index, requests: takeUnrecordedRequests(), waiting: waiters.count)
    }

    private func takeUnrecordedRequests() -> UInt64 {
        defer { unrecordedRequests = 0 }
        return unrecordedRequests
    }

    // MARK: Answers

    private func jobResponse(_ job: JobSnapshot, status: Int, location: Bool = false) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if location { headers.append(("Location", "/v1/jobs/\(job.id)")) }
        return HTTPResponse(status: status, headers: headers, body: JobRendering.encode(job))
    }

    private func json(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }

    private func internalError(_ error: Error) -> APIError {
        // The table is gone while shutting down (EIDRM/EINVAL from the semaphore): that is a 503.
        APIError.unavailable("the job table is not available: \(error)")
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
