#if canImport(Glibc)
import Glibc
#endif
import CMicroHTTPD
import CMicroHTTPDShims
import ProcessPool
import SystemV

/// A small Swift face over one libmicrohttpd daemon in external-epoll mode: no thread of its
/// own; `run` drives it on the calling thread, and every handler call happens there.
///
/// Not thread-safe: create it, run it and close it on one thread (or hand it over with a
/// happens-before edge, such as joining the thread that ran it).
public final class HTTPServer {
    /// The bound port.
    public let port: Int

    private let context: DaemonContext
    private var daemon: OpaquePointer?
    private let epollDescriptor: Int32
    private let logTarget: UnsafeMutablePointer<fp_mhd_logger>
    private var accepting = true

    /// Starts the daemon (`MHD_start_daemon`) on the inherited socket or on one bound here.
    /// - Parameters:
    ///   - configuration: where to listen and the limits.
    ///   - handler: answers requests; kept until `close()`.
    ///   - logger: receives libmicrohttpd's own messages and the server's, one line each.
    public init(
        configuration: HTTPServerConfiguration,
        handler: HTTPHandler,
        logger: @escaping (String) -> Void = { _ in }
    ) throws {
        let listenDescriptor = try configuration.listenDescriptor
            ?? ListeningSocket.bind(host: configuration.host, port: configuration.port, backlog: configuration.listenBacklog)
        let context = DaemonContext(handler: handler, configuration: configuration, logger: logger)
        // Unretained: the server keeps the context for longer than the daemon runs.
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        let logTarget = UnsafeMutablePointer<fp_mhd_logger>.allocate(capacity: 1)
        logTarget.initialize(to: fp_mhd_logger(sink: DaemonCallbacks.log, context: contextPointer))

        var settings = fp_mhd_settings(
            listen_fd: listenDescriptor,
            connection_timeout_seconds: UInt32(clamping: max(0, configuration.connectionTimeoutSeconds)),
            connection_limit: UInt32(clamping: max(0, configuration.connectionLimit)),
            per_ip_connection_limit: UInt32(clamping: max(0, configuration.perIPConnectionLimit)),
            connection_memory_limit: max(0, configuration.connectionMemoryLimit),
            access_handler: DaemonCallbacks.access,
            access_context: contextPointer,
            completed: DaemonCallbacks.completed,
            completed_context: contextPointer,
            connection_notified: DaemonCallbacks.connectionNotified,
            connection_notified_context: contextPointer,
            logger: logTarget)
        let boundPort: Int
        let started: OpaquePointer
        do {
            if let reason = fp_mhd_open() {
                throw HTTPServerError("cannot open \(FP_MHD_LIBRARY) (Debian package libmicrohttpd12): \(String(cString: reason))")
            }
            // Several processes may share an inherited socket: a loser of an accept race must not block.
            try Syscalls.setNonBlocking(listenDescriptor)
            boundPort = try ListeningSocket.port(of: listenDescriptor)
            guard let daemon = fp_mhd_start_daemon(&settings) else {
                throw HTTPServerError("MHD_start_daemon failed on descriptor \(listenDescriptor) (see the log for why)")
            }
            started = daemon
        } catch {
            // The server owns the socket, an inherited one too, and no daemon will close it now.
            Syscalls.close(listenDescriptor)
            logTarget.deallocate()
            throw error
        }
        let epoll = fp_mhd_daemon_epoll_fd(started)
        guard epoll >= 0 else {
            fp_mhd_stop_daemon(started)  // closes the socket too
            logTarget.deallocate()
            throw HTTPServerError("MHD_get_daemon_info(MHD_DAEMON_INFO_EPOLL_FD) gave no descriptor")
        }
        daemon = started
        epollDescriptor = epoll
        self.port = boundPort
        self.context = context
        self.logTarget = logTarget
    }

    deinit {
        close()
        logTarget.deallocate()
    }

    /// Runs the loop on the calling thread until `shouldStop()` returns true (checked after every wake-up).
    ///
    /// Each turn polls libmicrohttpd's epoll descriptor and `watching`, with the timeout from
    /// `MHD_get_timeout` and the earliest suspended-request or request-head deadline, then calls
    /// `MHD_run`.
    /// - Parameters:
    ///   - watching: extra descriptors polled for reading; they stay the caller's.
    ///   - onReadable: called on the loop thread when one of `watching` is readable (or hung up);
    ///     it must drain the descriptor, or the loop turns again at once.
    ///   - wakeBy: asked before every wait: a `MonotonicClock` instant by which the loop wakes
    ///     even if nothing happens (a drain deadline, say), or nil.
    ///   - shouldStop: asked after every wake-up.
    public func run(
        watching: [Int32] = [],
        onReadable: (Int32) -> Void = { _ in },
        wakeBy: () -> UInt64? = { nil },
        shouldStop: () -> Bool
    ) {
        var descriptors = [pollfd(fd: epollDescriptor, events: Int16(POLLIN), revents: 0)]
        descriptors += watching.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        // The daemon is looked up each turn: `onReadable` or `shouldStop` may have closed the server.
        while !shouldStop(), let daemon {
            var timeout = pollTimeout(daemon)
            for deadline in [context.expireDeadlines(now: MonotonicClock.now), wakeBy()] {
                guard let deadline else { continue }
                let untilDeadline = MonotonicClock.pollTimeout(until: deadline)
                timeout = timeout < 0 ? untilDeadline : min(timeout, untilDeadline)
            }
            if context.needsRun { timeout = 0 }
            for index in descriptors.indices { descriptors[index].revents = 0 }
            do {
                guard try Syscalls.poll(&descriptors, timeoutMilliseconds: timeout) else { continue }
            } catch {
                context.logger("HTTPServer: \(error)")
                continue
            }
            var index = 1
            while index < descriptors.count {
                let entry = descriptors[index]
                if entry.revents & Int16(POLLNVAL) != 0 {
                    context.logger("HTTPServer: watched descriptor \(entry.fd) is not open; no longer watching it")
                    descriptors.remove(at: index)
                    continue
                }
                if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { onReadable(entry.fd) }
                index += 1
            }
            guard let daemon = self.daemon else { return }
            _ = context.expireDeadlines(now: MonotonicClock.now)
            context.needsRun = false
            if fp_mhd_run(daemon) != .YES { context.logger("HTTPServer: MHD_run failed") }
        }
    }

    /// What MHD_get_timeout asks for, in poll(2) milliseconds; -1 = no limit.
    private func pollTimeout(_ daemon: OpaquePointer) -> Int32 {
        var milliseconds: CUnsignedLongLong = 0
        guard fp_mhd_get_timeout(daemon, &milliseconds) == .YES else { return -1 }
        return Int32(clamping: milliseconds)
    }

    /// Resumes the requests suspended on `token` early (`MHD_resume_connection`); unknown tokens
    /// are ignored. Call on the loop thread, e.g. from `onReadable`; the loop runs libmicrohttpd
    /// again before it sleeps, so `HTTPHandler.resumed` follows promptly.
    public func resume(token: UInt64) {
        context.resume(token: token)
    }

    /// Tokens of requests suspended now, each once.
    public var suspendedTokens: [UInt64] { context.suspendedTokens }

    /// Requests suspended now.
    public var suspendedCount: Int { context.suspendedCount }

    /// Requests begun and not yet completed (received, being answered or suspended). Zero after
    /// `close()`: per-request state is released in libmicrohttpd's completed callback.
    public var requestsInProgress: Int { context.liveRequests }

    /// Connections open now, suspended ones included (`MHD_DAEMON_INFO_CURRENT_CONNECTIONS`).
    public var openConnections: Int {
        guard let daemon else { return 0 }
        return Int(fp_mhd_daemon_connection_count(daemon))
    }

    /// Stops accepting (`MHD_quiesce_daemon`) and closes this process's listening descriptor,
    /// while the loop goes on answering open connections; then `close()` stops the daemon.
    /// Other processes sharing the socket keep accepting on it.
    public func stopAccepting() {
        guard let daemon, accepting else { return }
        accepting = false
        let listenDescriptor = fp_mhd_quiesce_daemon(daemon)
        if listenDescriptor >= 0 { Syscalls.close(listenDescriptor) }
    }

    /// Stops the daemon (`MHD_stop_daemon`): requests still suspended are first resumed with
    /// `timedOut` true and given one `MHD_run` to be answered; open connections are closed.
    /// Call on the loop thread, after `run` or from its `onReadable`/`shouldStop` (which end
    /// the loop), never from a handler. Idempotent.
    public func close() {
        guard let daemon else { return }
        // libmicrohttpd forbids stopping with suspended connections.
        context.resumeAll()
        if context.needsRun {
            context.needsRun = false
            _ = fp_mhd_run(daemon)
        }
        fp_mhd_stop_daemon(daemon)
        self.daemon = nil
        accepting = false
    }
}
