extension JobTable {
    /// Adds a queued job, or finds the one its idempotency key names.
    ///
    /// Makes room by evicting the oldest finished jobs when slots or data blocks run out.
    public func submit(_ job: NewJob, now: Int64 = wallClockMilliseconds()) throws -> SubmitOutcome {
        try locked {
            if header.draining != 0 { return .draining }
            if let keyHash = job.idempotencyKeyHash, let existing = findIdempotent(keyHash) {
                let same = existing.taskName == job.task && existing.inputHash == job.inputHash
                return same ? .existing(snapshot(of: existing)) : .conflict(snapshot(of: existing))
            }
            guard Int(header.queuedCount) < layout.queueCapacity else { return .queueFull(capacity: layout.queueCapacity) }
            let blocks = blocksNeeded(for: job.input.count)
            guard blocks <= layout.blockCount else {
                return .tableFull("an input of \(job.input.count) bytes does not fit the data area")
            }
            while header.freeSlotCount == 0 || Int(header.freeBlockCount) < blocks {
                guard evictOldestFinished() else {
                    return .tableFull(header.freeSlotCount == 0
                        ? "all \(layout.jobCapacity) job slots hold unfinished jobs"
                        : "the data area is full of unfinished jobs' inputs")
                }
            }
            guard let slot = popFreeSlot() else { return .tableFull("no free slot") }
            slot.clear()
            slot.generation = slot.generation &+ 1
            slot.secret = UInt64.random(in: 1...UInt64.max)
            slot.sequence = header.nextSequence
            header.nextSequence += 1
            slot.createdAt = now
            slot.taskName = job.task
            slot.priority = Int8(clamping: max(-10, min(10, job.priority)))
            slot.maxAttempts = UInt8(clamping: max(1, job.maxAttempts))
            slot.timeoutMs = job.timeoutMs
            slot.inputHash = job.inputHash
            slot.input = storeChain(job.input)
            if let keyHash = job.idempotencyKeyHash {
                slot.idempotencyKeyHash = keyHash
                slot.flags.insert(.hasIdempotencyKey)
                indexIdempotent(slot)
            }
            append(slot, to: creationList)
            enqueue(slot)
            slot.state = .queued
            adjustCount(.queued, by: 1)
            header.submittedTotal += 1
            metrics.add(.submitted, task: metrics.slot(ofTask: job.task))
            return .created(snapshot(of: slot))
        }
    }

    func enqueue(_ slot: JobSlot) {
        slot.queueSequence = header.nextQueueSequence
        header.nextQueueSequence += 1
        append(slot, to: queue(level: queueLevel(of: slot)))
        header.queuedCount += 1
    }

    func dequeue(_ slot: JobSlot) {
        unlink(slot, from: queue(level: queueLevel(of: slot)))
        header.queuedCount -= 1
    }

    /// Frees the finished job that finished first; false when no job is finished.
    @discardableResult
    func evictOldestFinished() -> Bool {
        let index = header.finishedHead
        guard index >= 0 else { return false }
        evict(slot(index))
        return true
    }

    /// Frees a finished job's slot and blocks.
    func evict(_ slot: JobSlot) {
        let state = slot.state
        slot.state = .free
        adjustCount(state, by: -1)
        unlink(slot, from: finishedList)
        unlink(slot, from: creationList)
        if slot.flags.contains(.hasIdempotencyKey) { unindexIdempotent(slot) }
        releaseChain(slot.input)
        releaseChain(slot.result)
        releaseChain(slot.error)
        slot.input = .empty
        slot.result = .empty
        slot.error = .empty
        pushFreeSlot(slot)
        header.evictedTotal += 1
    }

    /// Evicts finished jobs older than the retention time, at most `limit` of them
    /// per call so the lock is never held long. Returns how many went.
    @discardableResult
    public func evictExpired(now: Int64 = wallClockMilliseconds(), limit: Int = 1000) throws -> Int {
        try locked {
            var evicted = 0
            while evicted < limit, header.finishedHead >= 0 {
                let oldest = slot(header.finishedHead)
                guard oldest.finishedAt + header.retentionMs <= now else { break }
                evict(oldest)
                evicted += 1
            }
            return evicted
        }
    }

    /// Cancels a queued or running job. A running job's worker is the pool's to kill:
    /// it sees the state change when woken.
    public func cancel(_ id: JobID, now: Int64 = wallClockMilliseconds()) throws -> CancelOutcome {
        try locked {
            guard let slot = slot(for: id) else { return .notFound }
            switch slot.state {
            case .queued:
                dequeue(slot)
                finish(slot, state: .canceled, code: .canceled, message: "canceled while queued", now: now)
            case .running:
                let worker = slot.workerPID > 0 ? "; its worker \(slot.workerPID) is killed" : ""
                finish(slot, state: .canceled, code: .canceled, message: "canceled while running\(worker)", now: now)
            default:
                return .alreadyFinished(snapshot(of: slot))
            }
            return .canceled(snapshot(of: slot))
        }
    }

    /// Moves a queued or running job to a finished state, storing its error message.
    func finish(_ slot: JobSlot, state: JobState, code: JobErrorCode, message: String, now: Int64) {
        storeError(message, in: slot)
        slot.errorCode = code
        publishFinished(slot, state: state, now: now)
    }

    /// Stores a failure message, truncated to what the data area can hold.
    func storeError(_ message: String, in slot: JobSlot) {
        var bytes = truncatedUTF8(message, to: 4096)
        while blocksNeeded(for: bytes.count) > Int(header.freeBlockCount) {
            if !evictOldestFinished() {
                bytes = truncatedUTF8(String(decoding: bytes, as: UTF8.self), to: Int(header.freeBlockCount) * layout.blockSize)
                break
            }
        }
        releaseChain(slot.error)
        slot.error = storeChain(bytes)
    }

    /// The last step of every finish: timestamps, lists, counts, then the state byte.
    func publishFinished(_ slot: JobSlot, state: JobState, now: Int64) {
        let previous = slot.state
        let task = metrics.slot(ofTask: slot.taskName)
        if previous == .running { metrics.observeRun(task: task, seconds: Double(now - slot.startedAt) / 1000) }
        switch state {
        case .succeeded: metrics.add(.succeeded, task: task)
        case .failed: metrics.add(.failed, task: task)
        case .canceled: metrics.add(.canceled, task: task)
        default: break
        }
        slot.finishedAt = now
        slot.workerPID = 0
        append(slot, to: finishedList)
        slot.state = state
        adjustCount(previous, by: -1)
        adjustCount(state, by: 1)
        header.addFinished(state)
    }
}
