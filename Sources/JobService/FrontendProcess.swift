#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import JobStore
import Logging
import ProcessPool
import Tasks

/// The life of one front-end process: libmicrohttpd on the inherited listening
/// socket, one thread, until SIGTERM.
public enum FrontendProcess {
    public struct Plumbing: Sendable {
        public let listenDescriptor: Int32
        public let poolWake: EventNotifier
        /// This front-end's own wake-up: the pool signals it when jobs finish.
        public let wake: EventNotifier
        public init(listenDescriptor: Int32, poolWake: EventNotifier, wake: EventNotifier) {
            self.listenDescriptor = listenDescriptor
            self.poolWake = poolWake
            self.wake = wake
        }
    }

    /// Serves until SIGTERM or SIGINT; returns the exit code. `ready` runs once the server answers.
    public static func run(settings: ServiceSettings, index: Int, table: JobTable, catalog: TaskCatalog,
                           plumbing: Plumbing, logger: Logger, ready: () -> Void) -> Int32 {
        let signals: SignalDescriptor
        do {
            signals = try SignalDescriptor.open([SIGTERM, SIGINT])
            try table.registerFrontend(index: index, pid: getpid())
        } catch {
            logger.critical("could not start: \(error)")
            return 1
        }
        let handler = FrontendHandler(table: table, catalog: catalog, settings: settings, index: index, poolWake: plumbing.poolWake)
        handler.logger = logger
        var configuration = HTTPServerConfiguration()
        configuration.listenDescriptor = plumbing.listenDescriptor
        configuration.maximumBodyBytes = settings.maximumBodyBytes
        configuration.connectionTimeoutSeconds = settings.connectionTimeoutSeconds
        // A request head must arrive within the same time, or a trickling client could hold its connection forever.
        configuration.requestHeadTimeoutSeconds = settings.connectionTimeoutSeconds
        configuration.connectionLimit = settings.maximumConnections
        configuration.perIPConnectionLimit = settings.perIPConnectionLimit
        configuration.defaultHeaders = [("X-Forkpool-Frontend", "\(getpid())")]
        let server: HTTPServer
        do {
            // libmicrohttpd's own messages go into the same log.
            server = try HTTPServer(configuration: configuration, handler: handler,
                                    logger: { logger.warning("\($0)", metadata: ["source": "libmicrohttpd"]) })
        } catch {
            logger.critical("could not start the HTTP server: \(error)")
            return 1
        }
        handler.resume = { server.resume(token: $0) }
        ready()

        var stopping = false
        var stopDeadline = MonotonicClock.Instant.max
        var lastRecorded = MonotonicClock.now
        server.run(watching: [plumbing.wake.descriptor, signals.descriptor], onReadable: { descriptor in
            if descriptor == plumbing.wake.descriptor {
                plumbing.wake.drain()
                handler.checkWaiters()
            } else if descriptor == signals.descriptor, !signals.take().isEmpty, !stopping {
                stopping = true
                // In-flight requests and long polls get a few seconds to be answered.
                stopDeadline = MonotonicClock.deadline(after: .seconds(5))
                server.stopAccepting()
                handler.resumeAllWaiters()
            }
        }, wakeBy: {
            // Nothing else may wake the loop when the stop deadline passes.
            stopping ? stopDeadline : nil
        }, shouldStop: {
            let now = MonotonicClock.now
            if now - lastRecorded > 1_000_000_000 {
                handler.recordActivity()
                lastRecorded = now
            }
            guard stopping else { return false }
            return (server.suspendedCount == 0 && server.requestsInProgress == 0) || now >= stopDeadline
        })
        handler.recordActivity()
        server.close()
        signals.close()
        return 0
    }
}
