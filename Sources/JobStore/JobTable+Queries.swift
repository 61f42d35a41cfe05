extension JobTable {
    /// The state clients see. The pool marks a job running when it takes it and
    /// records the worker a moment later; until then the job is shown still queued,
    /// so a running job always has its `worker_pid`.
    func presentedState(of slot: JobSlot) -> JobState {
        let state = slot.state
        return state == .running && slot.workerPID <= 0 ? .queued : state
    }

    func snapshot(of slot: JobSlot) -> JobSnapshot {
        let state = presentedState(of: slot)
        let starting = state == .queued && slot.state == .running
        let hasProgress = slot.flags.contains(.hasProgress)
        return JobSnapshot(
            id: id(of: slot), task: slot.taskName, state: state, priority: Int(slot.priority),
            attempts: Int(slot.attempts), maxAttempts: Int(slot.maxAttempts), timeoutMs: slot.timeoutMs,
            result: state == .succeeded ? readChain(slot.result) : nil,
            errorCode: slot.errorCode,
            errorMessage: state == .failed || state == .canceled ? String(decoding: readChain(slot.error), as: UTF8.self) : nil,
            progress: hasProgress ? (slot.progressPercent, slot.progressMessage) : nil,
            workerPID: state == .running && slot.workerPID > 0 ? slot.workerPID : nil,
            createdAt: slot.createdAt,
            startedAt: slot.startedAt > 0 && !(starting && slot.attempts <= 1) ? slot.startedAt : nil,
            finishedAt: state.isFinished ? slot.finishedAt : nil,
            sequence: slot.sequence)
    }

    /// The job `id` names, or nil if it is unknown or gone.
    public func job(_ id: JobID) throws -> JobSnapshot? {
        try readWithoutLock { slot(for: id).map(snapshot(of:)) }
    }

    /// What a long poll finds when it starts watching a job.
    public enum Watch: Sendable {
        case finished(JobSnapshot)
        case waiting
        case gone
    }

    /// For a long poll, under one lock: adds front-end `index`'s request count, records
    /// how many long polls it holds (so the pool knows to wake it), and looks at the job.
    public func watch(_ id: JobID, frontend index: Int, requests: UInt64, waiting: Int) throws -> Watch {
        try locked {
            recordActivityUnlocked(index: index, requests: requests, waiting: waiting)
            guard let slot = slot(for: id) else { return .gone }
            return slot.state.isFinished ? .finished(snapshot(of: slot)) : .waiting
        }
    }

    /// The job `id` names, and front-end `index`'s activity recorded, under one lock (a long poll's answer).
    public func job(_ id: JobID, frontend index: Int, requests: UInt64, waiting: Int) throws -> JobSnapshot? {
        try locked {
            recordActivityUnlocked(index: index, requests: requests, waiting: waiting)
            return slot(for: id).map(snapshot(of:))
        }
    }

    /// Whether each job has finished (or is gone), without copying results: what long polls check.
    public func finished(_ ids: [JobID]) throws -> [Bool] {
        try locked { ids.map { slot(for: $0).map { $0.state.isFinished } ?? true } }
    }

    /// Jobs newest first, optionally only of one state or task.
    ///
    /// - Parameters:
    ///   - cursor: the `nextCursor` of the previous page.
    ///   - byteBudget: stops early (with a cursor) once the results and inputs copied exceed it.
    public func list(state: JobState?, task: String?, limit: Int, cursor: ListCursor?,
                     byteBudget: Int = 16 << 20) throws -> JobPage {
        try locked {
            var index = startIndex(after: cursor)
            var jobs: [JobSnapshot] = []
            var bytes = 0
            var steps = 0
            var last: JobSlot?
            while index >= 0 && jobs.count < limit && bytes <= byteBudget && steps <= layout.jobCapacity {
                let slot = slot(index)
                steps += 1
                if (state == nil || presentedState(of: slot) == state) && (task == nil || slot.taskName == task) {
                    let snapshot = snapshot(of: slot)
                    bytes += (snapshot.result?.count ?? 0) + (snapshot.errorMessage?.utf8.count ?? 0) + 512
                    jobs.append(snapshot)
                    last = slot
                }
                index = slot.listPrev
            }
            let more = index >= 0 && last != nil
            let next = more ? last.map { ListCursor(slot: UInt32($0.index), generation: $0.generation, sequence: $0.sequence) } : nil
            return JobPage(jobs: jobs, nextCursor: next?.description)
        }
    }

    /// Where a page after `cursor` starts: just before the cursor's job if it is
    /// still there, else the newest job older than it.
    private func startIndex(after cursor: ListCursor?) -> Int32 {
        guard let cursor else { return header.listTail }
        if Int(cursor.slot) < layout.jobCapacity {
            let slot = slot(Int32(cursor.slot))
            if slot.state != .free && slot.generation == cursor.generation && slot.sequence == cursor.sequence {
                return slot.listPrev
            }
        }
        var index = header.listTail
        while index >= 0 && slot(index).sequence >= cursor.sequence { index = slot(index).listPrev }
        return index
    }

    /// Registers front-end `index` as process `pid`; its request count carries on
    /// across restarts, so the counter never goes backwards.
    public func registerFrontend(index: Int, pid: Int32, now: Int64 = wallClockMilliseconds()) throws {
        guard index >= 0 && index < TableHeader.maximumFrontends else { return }
        try locked {
            let record = header.frontend(index)
            record.pid = pid
            record.waiting = 0
            record.startedAt = now
        }
    }

    /// Whether the server is draining (readiness checks this on every probe).
    public func isDraining() throws -> Bool {
        try locked { header.draining != 0 }
    }

    /// Counts a request served by front-end `index` and records how many connections it holds suspended.
    public func recordFrontendActivity(index: Int, requests: UInt64, waiting: Int) throws {
        try locked { recordActivityUnlocked(index: index, requests: requests, waiting: waiting) }
    }

    private func recordActivityUnlocked(index: Int, requests: UInt64, waiting: Int) {
        guard index >= 0 && index < TableHeader.maximumFrontends else { return }
        let record = header.frontend(index)
        record.requests &+= requests
        record.waiting = UInt32(waiting)
    }

    /// Front-ends that hold suspended long polls now.
    public func frontendsWaiting() throws -> [Int] {
        try locked {
            (0..<Int(header.frontendCount)).filter { header.frontend($0).waiting > 0 }
        }
    }

    /// Everything the status views show.
    public func status() throws -> TableStatus {
        try locked {
            let usedBlocks = layout.blockCount - Int(header.freeBlockCount)
            let liveSlots = layout.jobCapacity - Int(header.freeSlotCount)
            var running: [(id: JobID, task: String, workerPID: Int32, startedAt: Int64)] = []
            if header.stateCount(.running) > 0 {
                var index = header.listTail
                var steps = 0
                while index >= 0 && running.count < Int(header.stateCount(.running)) && steps < layout.jobCapacity {
                    let slot = slot(index)
                    if slot.state == .running { running.append((id(of: slot), slot.taskName, slot.workerPID, slot.startedAt)) }
                    index = slot.listPrev
                    steps += 1
                }
            }
            let frontends = (0..<Int(header.frontendCount)).map { index in
                let record = header.frontend(index)
                return TableStatus.Frontend(index: index, pid: record.pid, requests: record.requests,
                                            waiting: record.waiting, startedAt: record.startedAt)
            }
            return TableStatus(
                jobCapacity: layout.jobCapacity, queueCapacity: layout.queueCapacity,
                queued: Int(header.stateCount(.queued)), running: Int(header.stateCount(.running)),
                succeeded: Int(header.stateCount(.succeeded)), failed: Int(header.stateCount(.failed)),
                canceled: Int(header.stateCount(.canceled)),
                segmentBytes: segmentBytes,
                usedBytes: TableLayout.headerSize + liveSlots * TableLayout.slotSize + usedBlocks * layout.blockSize,
                dataBlocksUsed: usedBlocks, dataBlocksTotal: layout.blockCount, blockSize: layout.blockSize,
                submittedTotal: header.submittedTotal,
                finishedSucceeded: header.finishedTotal(.succeeded), finishedFailed: header.finishedTotal(.failed),
                finishedCanceled: header.finishedTotal(.canceled),
                evictedTotal: header.evictedTotal, retriedTotal: header.retriedTotal, recoveries: header.recoveries,
                supervisorPID: header.supervisorPID, poolPID: header.poolPID, poolStartedAt: header.poolStartedAt,
                workersMax: Int(header.workersMax), workersBusy: Int(header.workersBusy), workersIdle: Int(header.workersIdle),
                frontendRestarts: header.frontendRestarts, poolRestarts: header.poolRestarts,
                draining: header.draining != 0, retentionMs: header.retentionMs,
                frontends: frontends, runningJobs: running)
        }
    }
}

/// Where a page of `list` ended: the last job's slot, generation and creation sequence,
/// as 22 URL-safe characters (the same encoding as a job id).
public struct ListCursor: Sendable, CustomStringConvertible {
    public let slot: UInt32
    public let generation: UInt32
    public let sequence: UInt64

    public init(slot: UInt32, generation: UInt32, sequence: UInt64) {
        self.slot = slot
        self.generation = generation
        self.sequence = sequence
    }

    public init?(_ text: String) {
        guard let id = JobID(text) else { return nil }
        self.init(slot: id.slot, generation: id.generation, sequence: id.secret)
    }

    public var description: String { JobID(slot: slot, generation: generation, secret: sequence).description }
}
