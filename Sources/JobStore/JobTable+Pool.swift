extension JobTable {
    /// Takes up to `limit` queued jobs, highest priority first and FIFO within a
    /// priority, and marks them running (one more attempt each).
    public func takeQueued(limit: Int, now: Int64 = wallClockMilliseconds()) throws -> [StartedJob] {
        guard limit > 0 else { return [] }
        return try locked {
            var started: [StartedJob] = []
            var level = TableHeader.priorityLevels - 1
            while started.count < limit && level >= 0 {
                let head = header.queueHead(level)
                guard head >= 0 else {
                    level -= 1
                    continue
                }
                let slot = slot(head)
                dequeue(slot)
                slot.attempts &+= 1
                slot.startedAt = now
                slot.workerPID = 0
                slot.flags.remove(.hasProgress)
                slot.state = .running
                adjustCount(.queued, by: -1)
                adjustCount(.running, by: 1)
                let task = metrics.slot(ofTask: slot.taskName)
                metrics.add(.started, task: task)
                // Waits are measured from submission, for first attempts: a retry's wait is part of its recovery.
                if slot.attempts == 1 { metrics.observeQueueWait(task: task, seconds: Double(now - slot.createdAt) / 1000) }
                started.append(StartedJob(id: id(of: slot), task: slot.taskName, input: readChain(slot.input),
                                          timeoutMs: slot.timeoutMs, attempt: Int(slot.attempts)))
            }
            return started
        }
    }

    /// Records which worker runs each job.
    public func setWorkers(_ assignments: [(id: JobID, pid: Int32)]) throws {
        guard !assignments.isEmpty else { return }
        try locked {
            for (id, pid) in assignments {
                if let slot = slot(for: id), slot.state == .running { slot.workerPID = pid }
            }
        }
    }

    /// Records a job's progress while it runs.
    public func setProgress(_ id: JobID, percent: Double, message: String) throws {
        try locked {
            guard let slot = slot(for: id), slot.state == .running else { return }
            slot.progressPercent = percent
            slot.progressMessage = message
            slot.flags.insert(.hasProgress)
        }
    }

    /// Stores how a run ended. A failure that may be retried (`retryable`) with
    /// attempts left puts the job back in the queue instead.
    public func finish(_ id: JobID, outcome: RunOutcome, retryable: Bool,
                       now: Int64 = wallClockMilliseconds()) throws -> FinishDisposition {
        try locked { finishUnlocked(id, outcome: outcome, retryable: retryable, now: now) }
    }

    /// Runs that ended, stored under one acquisition of the lock; also returns the
    /// front-ends that hold long polls now, so the pool wakes only those.
    public func finish(_ runs: [(id: JobID, outcome: RunOutcome, retryable: Bool)],
                       now: Int64 = wallClockMilliseconds()) throws -> (dispositions: [FinishDisposition], waitingFrontends: [Int]) {
        try locked {
            let dispositions = runs.map { finishUnlocked($0.id, outcome: $0.outcome, retryable: $0.retryable, now: now) }
            return (dispositions, (0..<Int(header.frontendCount)).filter { header.frontend($0).waiting > 0 })
        }
    }

    private func finishUnlocked(_ id: JobID, outcome: RunOutcome, retryable: Bool, now: Int64) -> FinishDisposition {
        guard let slot = slot(for: id), slot.state == .running else { return .ignored }
        switch outcome {
        case let .succeeded(result):
            let blocks = blocksNeeded(for: result.count)
            while Int(header.freeBlockCount) < blocks {
                guard evictOldestFinished() else {
                    finish(slot, state: .failed, code: .resultTooLarge,
                           message: "the result of \(result.count) bytes does not fit the table's data area now", now: now)
                    return .finished(.failed)
                }
            }
            releaseChain(slot.result)
            slot.result = storeChain(result)
            slot.errorCode = .none
            publishFinished(slot, state: .succeeded, now: now)
            return .finished(.succeeded)
        case let .failed(code, message):
            if retryable && slot.attempts < slot.maxAttempts {
                metrics.observeRun(task: metrics.slot(ofTask: slot.taskName), seconds: Double(now - slot.startedAt) / 1000)
                requeue(slot)
                return .requeued
            }
            finish(slot, state: .failed, code: code, message: message, now: now)
            return .finished(.failed)
        }
    }

    func requeue(_ slot: JobSlot) {
        metrics.add(.retried, task: metrics.slot(ofTask: slot.taskName))
        slot.workerPID = 0
        enqueue(slot)
        slot.state = .queued
        adjustCount(.running, by: -1)
        adjustCount(.queued, by: 1)
        header.retriedTotal += 1
    }

    /// States of the given jobs now (nil for a job that is gone), for the pool to
    /// notice cancellations.
    public func states(of ids: [JobID]) throws -> [JobState?] {
        try locked { ids.map { slot(for: $0)?.state } }
    }

    /// Jobs left `running` by a pool that is gone: retried while attempts remain,
    /// otherwise failed with `interrupted`. Returns their ids.
    public func recoverInterruptedJobs(reason: String, now: Int64 = wallClockMilliseconds()) throws -> [JobID] {
        try locked {
            var recovered: [JobID] = []
            for index in 0..<Int32(layout.jobCapacity) where slot(index).state == .running {
                let slot = slot(index)
                recovered.append(id(of: slot))
                if slot.attempts < slot.maxAttempts {
                    requeue(slot)
                } else {
                    finish(slot, state: .failed, code: .interrupted, message: reason, now: now)
                }
            }
            return recovered
        }
    }

    /// Marks the table as draining (submissions refused) or accepting.
    public func setDraining(_ draining: Bool) throws {
        try locked { header.draining = draining ? 1 : 0 }
    }

    /// Fails every queued job with `code` (at shutdown). Returns how many.
    @discardableResult
    public func failQueued(code: JobErrorCode, message: String, now: Int64 = wallClockMilliseconds()) throws -> Int {
        try locked {
            var count = 0
            for level in 0..<TableHeader.priorityLevels {
                while header.queueHead(level) >= 0 {
                    let slot = slot(header.queueHead(level))
                    dequeue(slot)
                    finish(slot, state: .failed, code: code, message: message, now: now)
                    count += 1
                }
            }
            return count
        }
    }

    /// The pool's numbers for the status views.
    public func recordPool(pid: Int32, startedAt: Int64, workersMax: Int, busy: Int, idle: Int) throws {
        try locked {
            header.poolPID = pid
            header.poolStartedAt = startedAt
            header.workersMax = UInt32(workersMax)
            header.workersBusy = UInt32(busy)
            header.workersIdle = UInt32(idle)
        }
    }

    /// Counts a restart of a front-end or the pool.
    public func recordRestart(pool: Bool) throws {
        try locked {
            if pool { header.poolRestarts += 1 } else { header.frontendRestarts += 1 }
        }
    }

    /// The supervisor's pid and the number of front-ends.
    public func recordSupervisor(pid: Int32, frontends: Int) throws {
        try locked {
            header.supervisorPID = pid
            header.frontendCount = UInt32(frontends)
        }
    }
}

extension JobTable {
    /// Gives each task its own counters in the metrics area (up to 64; more share the last).
    public func registerTasks(_ names: [String]) throws {
        try locked {
            for name in names { metrics.registerTask(name) }
        }
    }

    /// Counts one answered request; route and status are the service's indices. No lock.
    public func countRequest(route: Int, status: Int) {
        metrics.countRequest(route: route, status: status)
    }

    /// The counters and histograms of every registered task, and the request counts.
    public func metricsSnapshot() -> MetricsSnapshot {
        let tasks = (0..<metrics.taskCount).map { index in
            MetricsSnapshot.TaskMetrics(
                name: metrics.taskName(index),
                submitted: metrics.counter(.submitted, task: index), started: metrics.counter(.started, task: index),
                succeeded: metrics.counter(.succeeded, task: index), failed: metrics.counter(.failed, task: index),
                canceled: metrics.counter(.canceled, task: index), retried: metrics.counter(.retried, task: index),
                runTime: metrics.runHistogram(task: index), queueWait: metrics.queueWaitHistogram(task: index))
        }
        let requests = (0..<MetricsArea.routeCount).map { route in
            (0..<MetricsArea.statusCount).map { metrics.requests(route: route, status: $0) }
        }
        return MetricsSnapshot(tasks: tasks, requests: requests)
    }
}
