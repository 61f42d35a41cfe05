#if canImport(Glibc)
import Glibc
#endif
import JobStore
import Logging
import ProcessPool
import Tasks

/// The life of the pool process: takes queued jobs from the table, runs them in
/// forked workers, and writes their outcomes back. Single-threaded, so it may fork.
public final class PoolProcess {
    public struct Plumbing: Sendable {
        /// Front-ends signal it when they queue or cancel a job.
        public let wake: EventNotifier
        /// One per front-end, indexed like the front-ends.
        public let frontendWakes: [EventNotifier]
        public init(wake: EventNotifier, frontendWakes: [EventNotifier]) {
            self.wake = wake
            self.frontendWakes = frontendWakes
        }
    }

    let settings: ServiceSettings
    let table: JobTable
    let catalog: TaskCatalog
    let plumbing: Plumbing
    let logger: Logger
    let pool: ProcessPool
    let signals: SignalDescriptor
    /// Jobs in the pool now, by the pool's task id.
    var running: [UInt64: JobID] = [:]
    var workerAssignments: [(id: JobID, pid: Int32)] = []
    var latestProgress: [UInt64: Progress] = [:]
    let startedAt = wallClockMilliseconds()

    /// Failures that were not the task's own verdict: worth another attempt.
    static let retryableFailures: Set<TaskFailure.Code> = [.timeout, .workerCrashed, .startFailed, .protocolError]

    public init(settings: ServiceSettings, table: JobTable, catalog: TaskCatalog, plumbing: Plumbing,
                logger: Logger) throws {
        self.settings = settings
        self.table = table
        self.catalog = catalog
        self.plumbing = plumbing
        self.logger = logger
        signals = try SignalDescriptor.open([SIGTERM, SIGINT])
        var configuration = PoolConfiguration()
        configuration.maximumWorkers = settings.workers
        configuration.tasksPerWorker = settings.tasksPerWorker
        configuration.maximumFrameLength = settings.maximumResultBytes + 64
        configuration.maximumPending = max(16, settings.workers * 2)
        var hooks = PoolHooks()
        // The hooks run on this thread, inside pool calls: they only record, the loop writes to the table.
        nonisolated(unsafe) var assignments: [(UInt64, Int32)] = []
        nonisolated(unsafe) var progress: [UInt64: Progress] = [:]
        hooks.taskStarted = { assignments.append(($0, $1)) }
        hooks.progress = { progress[$0] = $1 }
        // A worker runs task code: it must not be able to touch the table or wake anyone.
        let inherited = [plumbing.wake.descriptor, signals.descriptor] + plumbing.frontendWakes.map(\.descriptor)
        hooks.workerStarted = {
            table.detach()
            for descriptor in inherited { close(descriptor) }
        }
        pool = try ProcessPool(configuration: configuration, registry: catalog.registry, hooks: hooks)
        takeAssignments = {
            defer { assignments.removeAll() }
            return assignments
        }
        takeProgress = {
            defer { progress.removeAll() }
            return progress
        }
    }

    private var takeAssignments: () -> [(UInt64, Int32)] = { [] }
    private var takeProgress: () -> [UInt64: Progress] = { [:] }

    /// Runs until SIGTERM or SIGINT, then drains; returns the exit code.
    public func run(ready: () -> Void) -> Int32 {
        do {
            let interrupted = try table.recoverInterruptedJobs(reason: "the pool process stopped while the job ran")
            for id in interrupted {
                logger.notice("job was running when the previous pool stopped: retried or failed", metadata: ["job_id": "\(id)"])
            }
            try publishStatus()
        } catch {
            logger.critical("cannot use the job table: \(error)")
            return 1
        }
        ready()
        var shouldTake = true
        var nextHousekeeping = MonotonicClock.deadline(after: .seconds(1))
        do {
            while true {
                if shouldTake { try takeJobs() }
                shouldTake = false
                let ready = try pool.poll(timeout: .milliseconds(500), watching: [plumbing.wake.descriptor, signals.descriptor])
                if ready.contains(signals.descriptor) && !signals.take().isEmpty { break }
                if ready.contains(plumbing.wake.descriptor) {
                    plumbing.wake.drain()
                    shouldTake = true
                    try noticeCancellations()
                }
                // Progress first: a task's last progress frame arrives just before its result.
                try storeAssignmentsAndProgress()
                let finishedSome = try storeResults()
                if finishedSome { shouldTake = true }
                if finishedSome || startedSome {
                    // Worker counts in the status views follow job states closely.
                    try publishStatus()
                    startedSome = false
                }
                if MonotonicClock.now >= nextHousekeeping {
                    nextHousekeeping = MonotonicClock.deadline(after: .seconds(1))
                    try table.evictExpired()
                    try publishStatus()
                    table.flushStateFile()
                    shouldTake = true
                }
            }
            try drain()
        } catch {
            logger.critical("stopping after an error: \(error)")
            _ = try? pool.shutdown(grace: .seconds(1))
            return 1
        }
        return 0
    }

    /// Set when jobs were handed to workers since the status was last published.
    private var startedSome = false

    /// Fills free workers from the queue.
    private func takeJobs() throws {
        let free = settings.workers - pool.activeCount - pool.pendingCount
        guard free > 0 else { return }
        let jobs = try table.takeQueued(limit: free)
        startedSome = startedSome || !jobs.isEmpty
        for job in jobs {
            logger.debug("job started", metadata: ["job_id": "\(job.id)", "task": "\(job.task)", "attempt": "\(job.attempt)"])
            let timeout: Duration? = job.timeoutMs > 0 ? .milliseconds(Int64(job.timeoutMs)) : nil
            do {
                let taskID = try pool.submit(PoolTask(name: job.task, input: job.input, timeout: timeout))
                running[taskID] = job.id
            } catch {
                _ = try table.finish(job.id, outcome: .failed(.startFailed, "could not start: \(error)"), retryable: false)
            }
        }
        // Fork or hand out now, so the table shows each job's worker_pid as soon as it runs.
        pool.startPending()
        try storeAssignmentsAndProgress()
    }

    /// Writes finished runs to the table (one lock for all) and wakes the front-ends
    /// that wait; true if any finished.
    private func storeResults() throws -> Bool {
        var runs: [(id: JobID, outcome: RunOutcome, retryable: Bool)] = []
        var results: [TaskResult] = []
        while let result = pool.takeResult() {
            guard let id = running.removeValue(forKey: result.taskID) else { continue }
            latestProgress.removeValue(forKey: result.taskID)
            switch result.outcome {
            case let .succeeded(bytes):
                runs.append((id, .succeeded(bytes), false))
            case let .failed(failure):
                runs.append((id, .failed(JobErrorCode(name: failure.code.rawValue), failure.message),
                             Self.retryableFailures.contains(failure.code)))
            }
            results.append(result)
        }
        guard !runs.isEmpty else { return false }
        let (dispositions, waiting) = try table.finish(runs)
        for ((id, _, _), (result, disposition)) in zip(runs, zip(results, dispositions)) {
            var metadata: Logger.Metadata = ["job_id": "\(id)", "worker_pid": "\(result.workerPID)"]
            switch result.outcome {
            case .succeeded:
                logger.debug("job succeeded", metadata: metadata)
            case let .failed(failure):
                metadata["code"] = "\(failure.code.rawValue)"
                if disposition == .requeued {
                    logger.notice("job will run again: \(failure.message)", metadata: metadata)
                } else {
                    logger.info("job failed: \(failure.message)", metadata: metadata)
                }
            }
        }
        for index in waiting where index < plumbing.frontendWakes.count {
            plumbing.frontendWakes[index].signal()
        }
        return true
    }

    private func storeAssignmentsAndProgress() throws {
        let assignments = takeAssignments().compactMap { task, pid in running[task].map { (id: $0, pid: pid) } }
        try table.setWorkers(assignments)
        for (task, progress) in takeProgress() {
            if let id = running[task] { try table.setProgress(id, percent: progress.percent, message: progress.message) }
        }
    }

    /// A job canceled by a front-end is no longer `running` in the table: kill its worker.
    private func noticeCancellations() throws {
        guard !running.isEmpty else { return }
        let tasks = Array(running.keys)
        let states = try table.states(of: tasks.map { running[$0]! })
        for (task, state) in zip(tasks, states) where state != .running {
            pool.cancel(task)
        }
    }

    private func publishStatus() throws {
        let busy = pool.activeCount
        try table.recordPool(pid: getpid(), startedAt: startedAt, workersMax: settings.workers, busy: busy,
                             idle: max(0, pool.workerPIDs.count - busy))
    }

    /// SIGTERM: running jobs get the grace period. Queued jobs, and running ones
    /// stopped at its end, fail with `shutdown`; with a state file they stay
    /// queued for the next start instead (a stopped one only while attempts remain).
    private func drain() throws {
        let keepJobs = settings.stateFilePath != nil
        logger.notice("draining: \(running.count) jobs running, grace \(settings.shutdownGraceSeconds) s")
        if !keepJobs {
            try table.failQueued(code: .shutdown, message: "the server shut down before the job started")
        }
        for result in try pool.shutdown(grace: .seconds(settings.shutdownGraceSeconds)) {
            guard let id = running.removeValue(forKey: result.taskID) else { continue }
            switch result.outcome {
            case let .succeeded(bytes):
                _ = try table.finish(id, outcome: .succeeded(bytes), retryable: false)
            case let .failed(failure):
                _ = try table.finish(id, outcome: .failed(JobErrorCode(name: failure.code.rawValue), failure.message),
                                     retryable: keepJobs && failure.code == .shutdown)
            }
        }
        try publishStatus()
        for wake in plumbing.frontendWakes { wake.signal() }
    }
}
