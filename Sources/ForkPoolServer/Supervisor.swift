#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import HTTPServer
import JobService
import JobStore
import Logging
import ProcessPool
import SystemV
import Tasks

/// The first process of `forkpool serve`: creates the job table, the listening
/// socket and the wake-up descriptors, forks the pool and the front-ends, restarts
/// any that dies (with a brake), and on SIGTERM drains them in order and removes
/// every System V object. Single-threaded, so it may fork.
final class Supervisor {
    enum Role: Equatable, Hashable {
        case pool
        case frontend(Int)

        var name: String {
            switch self {
            case .pool: return "pool"
            case let .frontend(index): return "front-end \(index)"
            }
        }
    }

    /// A child process and its restart brake.
    struct Child {
        var pid: Int32 = 0
        var startedAt: MonotonicClock.Instant = 0
        /// Deaths within `quickDeath` of starting, in a row.
        var quickDeaths = 0
        var restartAt: MonotonicClock.Instant?
    }

    static let quickDeath: UInt64 = 5_000_000_000

    let settings: ServiceSettings
    let catalog: TaskCatalog
    var table: JobTable!
    var listenDescriptor: Int32 = -1
    var boundPort = 0
    var poolWake: EventNotifier!
    var frontendWakes: [EventNotifier] = []
    var signals: SignalDescriptor!
    var readyPipe: (read: Int32, write: Int32) = (-1, -1)
    var children: [Role: Child] = [:]
    var draining = false

    /// Installs the log handler for this process and all it forks, so it comes first.
    init(settings: ServiceSettings, catalog: TaskCatalog) {
        ForkPoolLogHandler.bootstrap(format: settings.logFormat, level: settings.logLevel)
        self.settings = settings
        self.catalog = catalog
        self.logger = ForkPoolLogHandler.logger(role: "supervisor")
    }

    let logger: Logger

    func log(_ message: String) { logger.notice("\(message)") }

    /// Runs the server to the end; returns the exit code.
    func run() -> Int32 {
        do {
            try setUp()
        } catch {
            log("cannot start: \(error)")
            tearDown()
            return 1
        }
        for role in [Role.pool] + (0..<settings.frontends).map(Role.frontend) { start(role) }
        if let failure = waitUntilReady() {
            log("cannot start: \(failure)")
            stopChildren(grace: .seconds(2))
            tearDown()
            return 1
        }
        printNow("forkpool listening on http://\(displayHost):\(boundPort)")
        log("serving: \(settings.frontends) front-ends, \(settings.workers) workers, key \(table.key)")
        loop()
        tearDown()
        return 0
    }

    private var displayHost: String { settings.host.contains(":") ? "[\(settings.host)]" : settings.host }

    private func setUp() throws {
        _ = fp_set_child_subreaper()
        signals = try SignalDescriptor.open([SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        listenDescriptor = try ListeningSocket.bind(host: settings.host, port: settings.port, backlog: 1024)
        boundPort = try ListeningSocket.port(of: listenDescriptor)
        let key = settings.ipcKey ?? ServiceSettings.defaultKey(port: boundPort)
        let layout = TableLayout(jobCapacity: settings.jobCapacity, queueCapacity: settings.queueCapacity, dataBytes: settings.dataBytes)
        let retention = Int64(settings.retentionSeconds) * 1000
        if let path = settings.stateFilePath {
            let (opened, reopened) = try JobTable.openStateFile(path: path, key: key, layout: layout, retentionMs: retention)
            table = opened
            if reopened {
                let status = try opened.status()
                log("reopened \(path): \(status.queued) queued, \(status.running) were running, "
                    + "\(status.succeeded + status.failed + status.canceled) finished jobs")
            }
        } else {
            table = try JobTable.create(key: key, layout: layout, retentionMs: retention)
        }
        try table.recordSupervisor(pid: getpid(), frontends: settings.frontends)
        try table.registerTasks(catalog.all.map(\.name))
        poolWake = try EventNotifier.make()
        frontendWakes = try (0..<settings.frontends).map { _ in try EventNotifier.make() }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SystemCallError(call: "pipe()", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        readyPipe = (fds[0], fds[1])
    }

    // MARK: Children

    private func start(_ role: Role) {
        let pid = fork()
        if pid < 0 {
            log("fork of the \(role.name) failed: \(String(cString: strerror(errno))); retrying in 1 s")
            children[role, default: Child()].restartAt = MonotonicClock.deadline(after: .seconds(1))
            return
        }
        if pid == 0 { becomeChild(role) }
        var child = children[role, default: Child()]
        child.pid = pid
        child.startedAt = MonotonicClock.now
        child.restartAt = nil
        children[role] = child
    }

    /// In the new child: never returns.
    private func becomeChild(_ role: Role) -> Never {
        signals.close()
        close(readyPipe.read)
        SignalDescriptor.unblockAll()
        // The children end with the supervisor: SIGTERM lets them drain.
        _ = fp_set_parent_death_signal(SIGTERM)
        let readyWrite = readyPipe.write
        let ready = {
            var byte: UInt8 = 1
            _ = write(readyWrite, &byte, 1)
        }
        let code: Int32
        switch role {
        case .pool:
            close(listenDescriptor)
            let roleName = "pool"
            do {
                let process = try PoolProcess(settings: settings, table: table, catalog: catalog,
                                              plumbing: .init(wake: poolWake, frontendWakes: frontendWakes),
                                              logger: ForkPoolLogHandler.logger(role: roleName))
                code = process.run(ready: ready)
            } catch {
                ForkPoolLogHandler.logger(role: roleName).critical("cannot start: \(error)")
                code = 1
            }
        case let .frontend(index):
            let roleName = "frontend-\(index)"
            code = FrontendProcess.run(settings: settings, index: index, table: table, catalog: catalog,
                                       plumbing: .init(listenDescriptor: listenDescriptor, poolWake: poolWake, wake: frontendWakes[index]),
                                       logger: ForkPoolLogHandler.logger(role: roleName), ready: ready)
        }
        _exit(code)
    }

    /// Nil once the pool and every front-end said they are ready; else why they did not.
    private func waitUntilReady() -> String? {
        var pending = settings.frontends + 1
        let deadline = MonotonicClock.deadline(after: .seconds(30))
        while pending > 0 {
            var fds = [pollfd(fd: readyPipe.read, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0)]
            let timeout = MonotonicClock.pollTimeout(until: deadline)
            if timeout == 0 { return "the pool and front-ends did not all become ready within 30 s" }
            _ = poll(&fds, 2, timeout)
            var bytes = [UInt8](repeating: 0, count: 64)
            let count = read(readyPipe.read, &bytes, 64)
            if count > 0 { pending -= count }
            if fds[1].revents != 0 {
                let received: [Int32] = signals!.take()
                if received.contains(SIGTERM) || received.contains(SIGINT) { return "stopped by a signal while starting" }
                if received.contains(SIGCHLD) && reapChildren(restart: false) {
                    return "a process exited while starting (its reason is logged above)"
                }
            }
        }
        return nil
    }

    // MARK: The loop

    private func loop() {
        while true {
            let nextRestart = children.values.compactMap(\.restartAt).min()
            var fds = [pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: readyPipe.read, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, nextRestart.map { MonotonicClock.pollTimeout(until: $0) } ?? -1)
            if fds[1].revents != 0 {
                var bytes = [UInt8](repeating: 0, count: 64)
                _ = read(readyPipe.read, &bytes, 64)
            }
            for signal in signals.take() {
                switch signal {
                case SIGCHLD:
                    _ = reapChildren(restart: true)
                case SIGTERM, SIGINT:
                    log("\(signal == SIGTERM ? "SIGTERM" : "SIGINT"): draining")
                    drain()
                    return
                default:
                    log("ignoring signal \(signal)")
                }
            }
            let now = MonotonicClock.now
            for (role, child) in children where child.pid == 0 {
                if let at = child.restartAt, now >= at {
                    log("restarting the \(role.name)")
                    try? table.recordRestart(pool: role == .pool)
                    start(role)
                }
            }
        }
    }

    /// Reaps every exited child; schedules restarts when `restart`. Returns true if a pool or front-end died.
    @discardableResult
    private func reapChildren(restart: Bool) -> Bool {
        var lost = false
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return lost }
            guard let (role, child) = children.first(where: { $0.value.pid == pid }) else {
                continue  // an orphan we adopted as subreaper: reaped, nothing else to do
            }
            lost = true
            let how = fp_wifsignaled(status) != 0 ? "was killed by signal \(fp_wtermsig(status))" : "exited with code \(fp_wexitstatus(status))"
            var updated = child
            updated.pid = 0
            if restart && !draining {
                let quick = MonotonicClock.now - child.startedAt < Self.quickDeath
                updated.quickDeaths = quick ? child.quickDeaths + 1 : 0
                // The brake: immediately after a long life, then 0.1 s doubling to 10 s while it keeps dying young.
                let delayMs = updated.quickDeaths == 0 ? 0 : min(10_000, 100 << min(updated.quickDeaths - 1, 10))
                updated.restartAt = MonotonicClock.deadline(after: .milliseconds(delayMs))
                log("the \(role.name) (pid \(pid)) \(how); restarting in \(delayMs) ms")
            } else {
                log("the \(role.name) (pid \(pid)) \(how)")
            }
            children[role] = updated
        }
    }

    // MARK: Shutdown

    /// Drains in order: no new jobs, the pool finishes or stops running jobs, then the front-ends answer what they hold and stop.
    private func drain() {
        draining = true
        try? table.setDraining(true)
        let poolDeadline = Duration.seconds(settings.shutdownGraceSeconds + 10)
        stop([.pool], grace: poolDeadline)
        stop((0..<settings.frontends).map(Role.frontend), grace: .seconds(10))
    }

    private func stopChildren(grace: Duration) {
        draining = true
        stop(Array(children.keys), grace: grace)
    }

    /// SIGTERM to `roles`, wait up to `grace` for them to exit, then SIGKILL. A second SIGTERM or SIGINT kills at once.
    private func stop(_ roles: [Role], grace: Duration) {
        for role in roles { if let pid = children[role]?.pid, pid > 0 { kill(pid, SIGTERM) } }
        let deadline = MonotonicClock.deadline(after: grace)
        var killed = false
        while roles.contains(where: { (children[$0]?.pid ?? 0) > 0 }) {
            if MonotonicClock.now >= deadline && !killed {
                log("\(roles.map(\.name).joined(separator: ", ")) did not stop in time: SIGKILL")
                killAll(roles)
                killed = true
            }
            var fds = [pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 1, killed ? 100 : MonotonicClock.pollTimeout(until: deadline))
            for signal in signals.take() where (signal == SIGTERM || signal == SIGINT) && !killed {
                log("second \(signal == SIGTERM ? "SIGTERM" : "SIGINT"): stopping at once")
                killAll(Array(children.keys))
                killed = true
            }
            reapChildren(restart: false)
        }
    }

    private func killAll(_ roles: [Role]) {
        for role in roles { if let pid = children[role]?.pid, pid > 0 { kill(pid, SIGKILL) } }
    }

    /// Removes the segment and semaphore set and closes what the supervisor holds.
    private func tearDown() {
        // Adopted orphans (workers of a killed pool) are reaped before we go.
        reapChildren(restart: false)
        table?.destroy()
        table?.detach()
        if listenDescriptor >= 0 { close(listenDescriptor) }
        poolWake?.close()
        for wake in frontendWakes { wake.close() }
        if readyPipe.read >= 0 { close(readyPipe.read); close(readyPipe.write) }
        signals?.close()
    }
}
