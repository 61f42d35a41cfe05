#if canImport(Glibc)
import Glibc
#endif
import CMicroHTTPD
import CMicroHTTPDShims
import ProcessPool

/// The state behind one libmicrohttpd daemon, reached from its C callbacks through `cls`.
/// Lives on the loop thread: every method runs there.
final class DaemonContext {
    let handler: any HTTPHandler
    let maximumBodyBytes: Int
    let defaultHeaders: [(name: String, value: String)]
    let logger: (String) -> Void

    /// Suspended requests by serial.
    private var suspended: [UInt64: RequestState] = [:]
    /// Serials of the suspended requests waiting on each token.
    private var waiters: [UInt64: Set<UInt64>] = [:]
    private var deadlines = DeadlineHeap()
    private var headDeadlines: RequestHeadDeadlines
    private let requestHeadTimeoutSeconds: Int
    private var nextSerial: UInt64 = 0
    /// Request states alive (created at the first access call, released at completion).
    private(set) var liveRequests = 0
    /// Set when a connection was resumed: `MHD_run` must run again before the loop sleeps.
    var needsRun = false
    /// Set while closing a connection on purpose, to drop libmicrohttpd's "internal error" line for it.
    private var closingOnPurpose = false

    init(handler: any HTTPHandler, configuration: HTTPServerConfiguration, logger: @escaping (String) -> Void) {
        self.handler = handler
        self.maximumBodyBytes = max(0, configuration.maximumBodyBytes)
        // libmicrohttpd computes Content-Length from the body.
        self.defaultHeaders = configuration.defaultHeaders.filter { !isContentLength($0.name) }
        self.logger = logger
        requestHeadTimeoutSeconds = max(0, configuration.requestHeadTimeoutSeconds)
        headDeadlines = RequestHeadDeadlines(allowance: UInt64(requestHeadTimeoutSeconds) * 1_000_000_000)
    }

    // MARK: Access handler

    func access(
        connection: OpaquePointer,
        url: UnsafePointer<CChar>?,
        method: UnsafePointer<CChar>?,
        uploadData: UnsafePointer<CChar>?,
        uploadDataSize: UnsafeMutablePointer<Int>,
        requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    ) -> MHD_Result {
        guard let pointer = requestContext.pointee else {
            // First call: headers are in, the body (if any) is not.
            headDeadlines.headArrived(connectionSerial(connection))
            let state = makeState(connection: connection, url: url, method: method)
            requestContext.pointee = Unmanaged.passRetained(state).toOpaque()
            if let declared = state.declaredContentLength {
                guard declared <= UInt64(maximumBodyBytes) else {
                    // Answering now makes libmicrohttpd skip the body (and any 100 Continue) and close after.
                    state.phase = .finished
                    return queue(handler.bodyTooLarge(state.request, limit: maximumBodyBytes), on: connection)
                }
                // Capped: a declared length costs nothing to send, so it must not cost memory either.
                state.body.reserveCapacity(min(Int(declared), 64 * 1024))
            }
            return .YES
        }
        let state = Unmanaged<RequestState>.fromOpaque(pointer).takeUnretainedValue()
        let size = uploadDataSize.pointee
        switch state.phase {
        case .receiving where size > 0:
            uploadDataSize.pointee = 0
            guard let uploadData else { return .NO }
            guard state.body.count + size <= maximumBodyBytes else {
                return rejectOversizedUpload(state, connection: connection)
            }
            state.body.append(contentsOf: UnsafeRawBufferPointer(start: uploadData, count: size))
            return .YES
        case .receiving:
            return dispatch(state, connection: connection)
        case .resuming(let token, let timedOut):
            state.phase = .finished
            return queue(handler.resumed(state.request, token: token, timedOut: timedOut), on: connection)
        case .suspended, .finished:
            // libmicrohttpd does not call again for these; if it ever did, close rather than spin.
            uploadDataSize.pointee = 0
            logger("HTTPServer: unexpected access call for \(state.method) \(state.path); closing the connection")
            return .NO
        }
    }

    private func makeState(connection: OpaquePointer, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?)
        -> RequestState
    {
        var headers: [(name: String, value: String)] = []
        var query: [(name: String, value: String)] = []
        withUnsafeMutablePointer(to: &headers) {
            _ = fp_mhd_get_connection_values_n(connection, .HEADER_KIND, DaemonCallbacks.collectPair, $0)
        }
        withUnsafeMutablePointer(to: &query) {
            _ = fp_mhd_get_connection_values_n(connection, .GET_ARGUMENT_KIND, DaemonCallbacks.collectPair, $0)
        }
        nextSerial += 1
        liveRequests += 1
        return RequestState(
            serial: nextSerial,
            method: method.map { String(cString: $0) } ?? "",
            path: url.map { String(cString: $0) } ?? "",
            query: query,
            headers: headers.map { (name: asciiLowercased($0.name), value: $0.value) },
            peer: PeerAddress(copying: fp_mhd_connection_client_address(connection)))
    }

    private func dispatch(_ state: RequestState, connection: OpaquePointer) -> MHD_Result {
        switch handler.handle(state.request) {
        case .respond(let response):
            state.phase = .finished
            return queue(response, on: connection)
        case .suspend(let token, let deadline):
            state.phase = .suspended(token: token, deadline: deadline)
            state.connection = connection
            suspended[state.serial] = state
            waiters[token, default: []].insert(state.serial)
            deadlines.insert(.init(deadline: deadline, serial: state.serial))
            fp_mhd_suspend_connection(connection)
            return .YES
        }
    }

    /// A body grew past the limit while arriving. libmicrohttpd (0.9.75) refuses a response
    /// queued during upload, and reading the rest could take forever; so the 413 goes straight
    /// onto the socket (nothing else is in flight on it: the previous answer is fully sent before
    /// a request is read, and a 100 Continue before its body), then the connection is closed.
    private func rejectOversizedUpload(_ state: RequestState, connection: OpaquePointer) -> MHD_Result {
        state.phase = .finished
        let response = handler.bodyTooLarge(state.request, limit: maximumBodyBytes)
        let bytes = response.wireBytes(extraHeaders: defaultHeaders, includeBody: state.method != "HEAD")
        let fd = fp_mhd_connection_fd(connection)
        if fd < 0 || Syscalls.sendNow(fd, bytes) < bytes.count {
            logger("HTTPServer: could not write the whole 413 for \(state.method) \(state.path) to \(state.peer.text)")
        }
        closingOnPurpose = true
        return .NO
    }

    /// Queues `response` with the default headers (`MHD_queue_response`).
    private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        var status = response.status
        if !(100...999).contains(status) {
            logger("HTTPServer: handler gave status \(status); answering 500")
            status = 500
        }
        let created: OpaquePointer? = response.body.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else {
                return fp_mhd_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT)
            }
            return fp_mhd_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: base), .RESPMEM_MUST_COPY)
        }
        guard let mhdResponse = created else {
            logger("HTTPServer: MHD_create_response_from_buffer failed; closing the connection")
            return .NO
        }
        defer { fp_mhd_destroy_response(mhdResponse) }
        for (name, value) in response.headers where !isContentLength(name) {
            add(name, value, to: mhdResponse)
        }
        for (name, value) in defaultHeaders { add(name, value, to: mhdResponse) }
        return fp_mhd_queue_response(connection, UInt32(status), mhdResponse)
    }

    private func add(_ name: String, _ value: String, to response: OpaquePointer) {
        if fp_mhd_add_response_header(response, name, value) != .YES {
            logger("HTTPServer: header \"\(name)\" refused by libmicrohttpd")
        }
    }

    // MARK: Completion and logging

    func completed(connection: OpaquePointer, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        closingOnPurpose = false
        // Keep-alive: the next request head is due from now. A closing connection is armed for nothing.
        headDeadlines.requestCompleted(connectionSerial(connection), now: MonotonicClock.now)
        guard let pointer = requestContext.pointee else { return }
        requestContext.pointee = nil
        let state = Unmanaged<RequestState>.fromOpaque(pointer).takeRetainedValue()
        liveRequests -= 1
        // Only at daemon shutdown can a request end while suspended.
        if case .suspended(let token, _) = state.phase { forget(state, token: token) }
        state.connection = nil
    }

    func log(fromDaemon message: String) {
        if closingOnPurpose && message.contains("internal error") { return }
        // Said of each connection shut for its overdue head, which was logged already.
        if headDeadlines.expiredOpen > 0 && message.contains("when reading request") { return }
        var line = Substring(message)
        while line.last == "\n" || line.last == "\r" { line.removeLast() }
        logger("libmicrohttpd: \(line)")
    }

    // MARK: Connections

    /// A connection was accepted: its request-head deadline starts now. Its serial goes into
    /// libmicrohttpd's `socket_context` (as the pointer's bits), read back by `connectionSerial`.
    func connectionStarted(_ connection: OpaquePointer, socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        let serial = headDeadlines.opened(connection, now: MonotonicClock.now)
        socketContext.pointee = UnsafeMutableRawPointer(bitPattern: UInt(serial))
    }

    /// libmicrohttpd is about to free the connection (and close its socket).
    func connectionClosed(socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        guard let pointer = socketContext.pointee else { return }
        socketContext.pointee = nil
        headDeadlines.closed(UInt64(UInt(bitPattern: pointer)))
    }

    private func connectionSerial(_ connection: OpaquePointer) -> UInt64 {
        UInt64(UInt(bitPattern: fp_mhd_connection_socket_context(connection)))
    }

    /// Shuts down (both ways) the socket of each connection whose request head is overdue.
    /// libmicrohttpd then sees the end of the stream on its next `MHD_run` and closes and frees
    /// the connection itself: closing the descriptor behind its back could close a reused one.
    private func expireHeadDeadlines(now: UInt64) -> UInt64? {
        let (expired, next) = headDeadlines.expire(now: now)
        for connection in expired {
            let address = fp_mhd_connection_client_address(connection).map { SocketAddress.text(of: $0) } ?? "?"
            logger("HTTPServer: closing the connection from \(address): no complete request head within \(requestHeadTimeoutSeconds) s")
            let fd = fp_mhd_connection_fd(connection)
            guard fd >= 0 else { continue }
            do {
                try Syscalls.shutdown(fd)
            } catch where error.errno == ENOTCONN {
                // The peer is already gone; libmicrohttpd notices that by itself.
            } catch {
                logger("HTTPServer: \(error)")
            }
            needsRun = true
        }
        return next
    }

    // MARK: Suspended requests

    var suspendedTokens: [UInt64] { Array(waiters.keys) }
    var suspendedCount: Int { suspended.count }

    /// Resumes every request waiting on `token`; unknown tokens are ignored.
    func resume(token: UInt64) {
        guard let serials = waiters.removeValue(forKey: token) else { return }
        for serial in serials {
            if let state = suspended[serial] { resume(state, timedOut: false) }
        }
    }

    /// Resumes every suspended request with `timedOut` true (before the daemon stops).
    func resumeAll() {
        for state in Array(suspended.values) { resume(state, timedOut: true) }
    }

    private func resume(_ state: RequestState, timedOut: Bool) {
        guard case .suspended(let token, _) = state.phase, let connection = state.connection else { return }
        forget(state, token: token)
        state.phase = .resuming(token: token, timedOut: timedOut)
        state.connection = nil
        fp_mhd_resume_connection(connection)
        needsRun = true
    }

    private func forget(_ state: RequestState, token: UInt64) {
        suspended[state.serial] = nil
        if var serials = waiters.removeValue(forKey: token) {
            serials.remove(state.serial)
            if !serials.isEmpty { waiters[token] = serials }
        }
    }

    /// Resumes the requests whose deadline is at or before `now` and shuts the connections whose
    /// request head is overdue; returns the next deadline of either kind.
    func expireDeadlines(now: UInt64) -> UInt64? {
        let nextHeadDeadline = expireHeadDeadlines(now: now)
        guard let nextSuspended = expireSuspendedDeadlines(now: now) else { return nextHeadDeadline }
        return min(nextSuspended, nextHeadDeadline ?? nextSuspended)
    }

    private func expireSuspendedDeadlines(now: UInt64) -> UInt64? {
        while let first = deadlines.first {
            guard let state = suspended[first.serial] else {
                deadlines.removeFirst()  // resumed early
                continue
            }
            if first.deadline > now { break }
            deadlines.removeFirst()
            resume(state, timedOut: true)
        }
        // Entries of early resumes deep in the heap are dropped once they outnumber the live ones.
        if deadlines.count > 2 * suspended.count + 64 {
            deadlines.filter { suspended[$0.serial] != nil }
        }
        return deadlines.first?.deadline
    }
}
