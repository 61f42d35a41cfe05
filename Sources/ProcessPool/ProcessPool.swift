#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import SystemV

/// A pool of forked worker processes that run registered tasks.
///
/// Everything happens on the calling thread: `nextResult`, `allResults` and
/// `poll` turn one event loop over the workers' sockets and a signalfd for
/// SIGCHLD. Each worker talks to the pool over its own socketpair; it sends
/// progress frames, then one result frame per task (see `WorkerMessage`).
/// A worker's socket is read to its end before the worker counts as gone, so a
/// result sent just before exit is never lost to the SIGCHLD race.
///
/// The process must be single-threaded: forking from a threaded process can
/// leave the child stuck on a lock some other thread held.
public final class ProcessPool {
    public let configuration: PoolConfiguration
    let registry: TaskRegistry
    let hooks: PoolHooks

    var pending = PendingQueue()
    var results = ResultQueue()
    var workers: [Int32: WorkerProcess] = [:]
    var workerByDescriptor: [Int32: Int32] = [:]
    var idleWorkers: [Int32] = []
    /// Exit statuses of children reaped before the pool recorded them (bounded; see `reap`).
    var unclaimedExits: [Int32: Int32] = [:]
    var nextTaskID: UInt64 = 1
    var runningCount = 0
    public internal(set) var completedCount = 0
    /// Workers forked over the pool's life.
    public internal(set) var workersStarted = 0

    let childSignalDescriptor: Int32
    let savedSignalMask: sigset_t
    let poolPID: Int32
    /// Set when `shutdown` begins: nothing new starts, finished workers are not kept.
    var isDraining = false
    var isShutDown = false

    /// Creates a pool; forks nothing until tasks arrive.
    ///
    /// - Throws: `PoolError.notSingleThreaded` when forking would be unsafe, `PoolError.invalidConfiguration`.
    public init(configuration: PoolConfiguration, registry: TaskRegistry, hooks: PoolHooks = PoolHooks()) throws {
        guard configuration.maximumWorkers >= 1 else { throw PoolError.invalidConfiguration("maximumWorkers must be at least 1") }
        guard configuration.tasksPerWorker >= 1 else { throw PoolError.invalidConfiguration("tasksPerWorker must be at least 1") }
        guard configuration.maximumFrameLength > WorkerMessage.fixedPrefixLength + 2,
              configuration.maximumFrameLength <= Int(UInt32.max) else {
            throw PoolError.invalidConfiguration("maximumFrameLength must be between 12 and \(UInt32.max)")
        }
        if configuration.forking {
            let threads = Syscall.threadCount()
            guard threads == 1 else { throw PoolError.notSingleThreaded(threads: threads) }
        }
        self.configuration = configuration
        self.registry = registry
        self.hooks = hooks
        self.maximumWorkers = configuration.maximumWorkers
        self.poolPID = getpid()
        _ = fp_signal_default(SIGCHLD)
        do {
            (childSignalDescriptor, savedSignalMask) = try Syscall.openChildSignalDescriptor()
        } catch {
            throw PoolError.system(error)
        }
    }

    deinit {
        if !isShutDown { killAndReapEverything() }
    }

    /// Most workers alive at once. Lowering it retires idle workers now and busy ones after their task.
    public var maximumWorkers: Int {
        didSet {
            maximumWorkers = max(1, maximumWorkers)
            retireSurplusIdleWorkers()
        }
    }

    /// Tasks waiting for a worker.
    public var pendingCount: Int { pending.count }
    /// Tasks in a worker now.
    public var activeCount: Int { runningCount }
    /// Results ready to be taken.
    public var bufferedResultCount: Int { results.count }
    /// Pids of the workers alive now.
    public var workerPIDs: [Int32] { Array(workers.keys).sorted() }

    /// Queues a task and returns its id; it starts when a worker is free.
    public func submit(_ task: PoolTask) throws -> UInt64 {
        guard !isDraining else { throw PoolError.shutDown }
        guard registry.handler(named: task.name) != nil else { throw PoolError.unknownTask(task.name) }
        guard pending.count < configuration.maximumPending else {
            throw PoolError.queueFull(capacity: configuration.maximumPending)
        }
        let id = nextTaskID
        nextTaskID += 1
        pending.insert(task, id: id)
        return id
    }

    /// The next finished task, running the pool until one is ready.
    ///
    /// - Parameter timeout: nil waits as long as there is work; returns nil when
    ///   the time is up or nothing is left to wait for.
    public func nextResult(timeout: Duration? = nil) throws -> TaskResult? {
        let deadline = timeout.map { MonotonicClock.deadline(after: $0) }
        while true {
            if let result = results.popFirst() { return result }
            guard hasWork else { return nil }
            if let deadline, MonotonicClock.now >= deadline { return nil }
            try turn(until: deadline)
        }
    }

    /// Every result until no task is pending or running, or until `timeout`.
    ///
    /// Returns what finished in time; check `pendingCount` and `activeCount` to
    /// tell whether everything did.
    public func allResults(timeout: Duration? = nil) throws -> [TaskResult] {
        let deadline = timeout.map { MonotonicClock.deadline(after: $0) }
        var collected: [TaskResult] = []
        while true {
            while let result = results.popFirst() { collected.append(result) }
            guard hasWork else { return collected }
            if let deadline, MonotonicClock.now >= deadline { return collected }
            try turn(until: deadline)
        }
    }

    /// One turn of the event loop: starts what can start, waits up to `timeout`
    /// for worker frames, exits and timers, and handles them.
    ///
    /// - Parameter watching: descriptors of the caller's to wait on as well (a wake-up
    ///   eventfd, a signalfd); returns those that are readable.
    @discardableResult
    public func poll(timeout: Duration, watching: [Int32] = []) throws -> [Int32] {
        try turn(until: MonotonicClock.deadline(after: timeout), watching: watching)
    }

    /// Starts waiting tasks now, as far as workers allow (forks or hands them to idle
    /// workers), without waiting for events: `hooks.taskStarted` has run for each when it returns.
    public func startPending() {
        dispatch()
    }

    /// Takes the oldest buffered result without running the loop.
    public func takeResult() -> TaskResult? { results.popFirst() }

    /// Drops every waiting task; each still gets a `canceled` result. Returns their ids.
    @discardableResult
    public func clearPending() -> [UInt64] {
        var ids: [UInt64] = []
        while let (id, task) = pending.popFirst() {
            ids.append(id)
            deliver(TaskResult(taskID: id, name: task.name,
                               outcome: .failed(TaskFailure(code: .canceled, message: "canceled before it started")),
                               workerPID: 0, lastProgress: nil, progressCount: 0))
        }
        return ids
    }

    /// Cancels a task: a waiting one is dropped, a running one's worker is stopped
    /// (SIGTERM, then SIGKILL after the termination grace). Either way it ends with a `canceled` result. Returns false if
    /// the task is neither waiting nor running.
    @discardableResult
    public func cancel(_ id: UInt64) -> Bool {
        if let task = pending.remove(id: id) {
            deliver(TaskResult(taskID: id, name: task.name,
                               outcome: .failed(TaskFailure(code: .canceled, message: "canceled before it started")),
                               workerPID: 0, lastProgress: nil, progressCount: 0))
            return true
        }
        guard let worker = workers.values.first(where: { $0.assignment?.id == id && $0.assignment?.verdict == nil }) else {
            return false
        }
        // SIGTERM first (SIGKILL follows after the termination grace), so a worker can stop what it started.
        stop(worker, verdict: TaskFailure(code: .canceled, message: "canceled while running in worker \(worker.pid)"),
             signal: SIGTERM)
        return true
    }

    /// Sends `signal` to one worker. A worker that dies of it reports its task as crashed.
    public func kill(worker pid: Int32, signal: Int32 = SIGTERM) {
        guard workers[pid] != nil else { return }
        Syscall.signal(pid, signal)
    }

    /// Sends `signal` to every worker.
    public func killAll(signal: Int32 = SIGTERM) {
        for pid in workers.keys { Syscall.signal(pid, signal) }
    }

    /// Stops the pool: waiting tasks end `canceled`; running tasks get `grace` to
    /// finish, then their workers are stopped and the tasks end with `shutdown`.
    /// Reaps every worker and returns the results not taken yet.
    public func shutdown(grace: Duration = .seconds(10)) throws -> [TaskResult] {
        guard !isShutDown else { return [] }
        isDraining = true
        clearPending()
        for pid in idleWorkers { retire(pid) }
        idleWorkers.removeAll()
        let graceEnd = MonotonicClock.deadline(after: grace)
        var stoppedRunning = false
        while !workers.isEmpty {
            if !stoppedRunning && MonotonicClock.now >= graceEnd {
                stoppedRunning = true
                for worker in workers.values {
                    if worker.assignment != nil && worker.assignment?.verdict == nil {
                        stop(worker, verdict: TaskFailure(code: .shutdown, message: "the pool shut down while it ran"),
                             signal: SIGTERM)
                    } else if worker.killDeadline == nil {
                        worker.killDeadline = MonotonicClock.deadline(after: configuration.terminationGrace)
                    }
                }
            }
            try turn(until: stoppedRunning ? nil : graceEnd, startingWork: false)
        }
        isShutDown = true
        Syscall.close(childSignalDescriptor)
        Syscall.restoreSignalMask(savedSignalMask)
        var remaining: [TaskResult] = []
        while let result = results.popFirst() { remaining.append(result) }
        return remaining
    }

    /// True while something is waiting, running or undelivered.
    var hasWork: Bool { !pending.isEmpty || runningCount > 0 || !results.isEmpty }

    func deliver(_ result: TaskResult) {
        results.append(result)
        completedCount += 1
    }

    /// Last resort when the pool is dropped without `shutdown`: no worker may outlive it or stay a zombie.
    private func killAndReapEverything() {
        for pid in workers.keys { Syscall.signal(pid, SIGKILL) }
        for (pid, worker) in workers {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            Syscall.close(worker.descriptor)
        }
        workers.removeAll()
        Syscall.close(childSignalDescriptor)
        Syscall.restoreSignalMask(savedSignalMask)
    }
}
