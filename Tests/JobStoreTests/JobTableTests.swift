import Testing
#if canImport(Glibc)
import Glibc
#endif
import SystemV
import TestSupport
@testable import JobStore

/// A small table under a fresh key, removed afterwards; fails the test if objects are left or the table is unsound.
func withTable<T>(jobs: Int = 8, queue: Int = 4, dataBytes: Int = 4096, retentionMs: Int64 = 3_600_000,
                  _ body: (JobTable) throws -> T) throws -> T {
    let key = uniqueTestKey()
    let table = try JobTable.create(key: IPCKey(key), layout: TableLayout(jobCapacity: jobs, queueCapacity: queue, dataBytes: dataBytes),
                                    retentionMs: retentionMs)
    defer {
        table.destroy()
        table.detach()
        #expect(SystemVObjects.leftovers(among: [key]).isEmpty)
    }
    let result = try body(table)
    #expect(try table.check() == [])
    return result
}

func newJob(_ task: String = "echo", input: String = "1", priority: Int = 0, maxAttempts: Int = 1, key: UInt8? = nil) -> NewJob {
    let bytes = Array(input.utf8)
    // Tests stand in a trivial hash for the canonical-input hash: equal text, equal hash.
    var hash = [UInt8](repeating: 0, count: 32)
    for (index, byte) in bytes.enumerated() { hash[index % 32] ^= byte &+ UInt8(truncatingIfNeeded: index) }
    return NewJob(task: task, input: bytes, inputHash: hash, priority: priority, timeoutMs: 0, maxAttempts: maxAttempts,
                  idempotencyKeyHash: key.map { [UInt8](repeating: $0, count: 32) })
}

func created(_ outcome: SubmitOutcome, sourceLocation: SourceLocation = #_sourceLocation) -> JobSnapshot? {
    guard case let .created(job) = outcome else {
        Issue.record("expected a new job, got \(outcome)", sourceLocation: sourceLocation)
        return nil
    }
    return job
}

@Suite("Job ids")
struct JobIDTests {
    /// Known answers from Python's `base64.urlsafe_b64encode(struct.pack(">IIQ", slot, generation, secret))`.
    @Test(arguments: [
        (UInt32(1), UInt32(2), UInt64(0x0102_0304_0506_0708), "AAAAAQAAAAIBAgMEBQYHCA"),
        (UInt32.max, UInt32(0x8000_0001), UInt64(0xFEDC_BA98_7654_3210), "_____4AAAAH-3LqYdlQyEA"),
        (UInt32(7), UInt32(0), UInt64(0), "AAAABwAAAAAAAAAAAAAAAA"),
    ])
    func isBase64URLOfTheBigEndianFields(_ slot: UInt32, _ generation: UInt32, _ secret: UInt64, _ text: String) {
        let id = JobID(slot: slot, generation: generation, secret: secret)
        #expect(id.description == text)
        #expect(JobID(text) == id)
    }

    @Test func roundTripsThroughText() {
        for _ in 0..<1000 {
            let id = JobID(slot: .random(in: 0...UInt32.max), generation: .random(in: 0...UInt32.max), secret: .random(in: 0...UInt64.max))
            let text = id.description
            #expect(text.count == 22)
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(JobID(text) == id)
        }
    }

    @Test(arguments: ["", "short", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA+A", "AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAA=", "ÄAAAAAAAAAAAAAAAAAAAA"])
    func rejectsMalformedText(_ text: String) {
        #expect(JobID(text) == nil)
    }
}

@Suite("The job table in a real System V segment")
struct JobTableTests {
    @Test func submitsAndReadsBack() throws {
        try withTable { table in
            let job = try #require(created(try table.submit(newJob(input: "{\"a\": [1, 2]}"))))
            #expect(job.state == .queued)
            #expect(job.attempts == 0)
            let read = try #require(try table.job(job.id))
            #expect(read.task == "echo")
            #expect(read.sequence == job.sequence)
            #expect(try table.job(JobID(slot: job.id.slot, generation: job.id.generation, secret: job.id.secret ^ 1)) == nil)
            #expect(try table.job(JobID(slot: 99, generation: 1, secret: 1)) == nil)
        }
    }

    @Test func takesHighestPriorityFirstAndFIFOWithin() throws {
        try withTable(jobs: 16, queue: 16) { table in
            let priorities = [0, 5, -1, 5, 10, 0, -10, 10]
            var ids: [JobID] = []
            for (number, priority) in priorities.enumerated() {
                ids.append(try #require(created(try table.submit(newJob(input: "\(number)", priority: priority)))).id)
            }
            let started = try table.takeQueued(limit: 100)
            #expect(started.map { ids.firstIndex(of: $0.id)! } == [4, 7, 1, 3, 0, 5, 2, 6])
            #expect(started.allSatisfy { $0.attempt == 1 })
            #expect(String(decoding: started[0].input, as: UTF8.self) == "4")
            #expect(try table.takeQueued(limit: 5).isEmpty)
            #expect(try table.status().running == 8)
        }
    }

    @Test func finishesWithResultOrError() throws {
        try withTable { table in
            let first = try #require(created(try table.submit(newJob(input: "\"in\""))))
            let second = try #require(created(try table.submit(newJob(input: "2"))))
            _ = try table.takeQueued(limit: 2)
            try table.setWorkers([(first.id, 4242)])
            #expect(try table.job(first.id)?.workerPID == 4242)
            try table.setProgress(first.id, percent: 40, message: "getting there")
            #expect(try table.job(first.id)?.progress?.percent == 40)
            let big = [UInt8](repeating: 0x41, count: 1000)
            #expect(try table.finish(first.id, outcome: .succeeded(big), retryable: false) == .finished(.succeeded))
            #expect(try table.finish(second.id, outcome: .failed(.taskError, "boom"), retryable: false) == .finished(.failed))
            let done = try #require(try table.job(first.id))
            #expect(done.state == .succeeded)
            #expect(done.result == big)
            #expect(done.workerPID == nil)
            #expect(done.finishedAt != nil)
            let failed = try #require(try table.job(second.id))
            #expect(failed.errorCode == .taskError)
            #expect(failed.errorMessage == "boom")
            #expect(try table.finish(first.id, outcome: .succeeded([1]), retryable: false) == .ignored)
        }
    }

    @Test func showsATakenJobAsQueuedUntilItsWorkerIsKnown() throws {
        try withTable { table in
            let job = try #require(created(try table.submit(newJob())))
            _ = try table.takeQueued(limit: 1)
            let starting = try #require(try table.job(job.id))
            #expect(starting.state == .queued)
            #expect(starting.startedAt == nil)
            #expect(starting.workerPID == nil)
            #expect(try table.list(state: .running, task: nil, limit: 10, cursor: nil).jobs.isEmpty)
            try table.setWorkers([(job.id, 4242)])
            let running = try #require(try table.job(job.id))
            #expect(running.state == .running)
            #expect(running.workerPID == 4242)
            #expect(running.startedAt != nil)
        }
    }

    @Test func retriesRetryableFailuresUntilAttemptsRunOut() throws {
        try withTable { table in
            let job = try #require(created(try table.submit(newJob(maxAttempts: 3))))
            for attempt in 1...3 {
                let started = try table.takeQueued(limit: 1)
                #expect(started.first?.attempt == attempt)
                let disposition = try table.finish(job.id, outcome: .failed(.workerCrashed, "killed by SIGKILL"), retryable: true)
                #expect(disposition == (attempt < 3 ? .requeued : .finished(.failed)))
            }
            let final = try #require(try table.job(job.id))
            #expect(final.attempts == 3)
            #expect(final.errorCode == .workerCrashed)
            #expect(try table.status().retriedTotal == 2)
        }
    }

    @Test func idempotencyKeysReturnTheFirstJobOrConflict() throws {
        try withTable { table in
            let first = try #require(created(try table.submit(newJob(input: "1", key: 7))))
            guard case let .existing(again) = try table.submit(newJob(input: "1", priority: 5, key: 7)) else {
                Issue.record("same key, task and input must return the first job")
                return
            }
            #expect(again.id == first.id)
            guard case .conflict = try table.submit(newJob(input: "2", key: 7)) else {
                Issue.record("same key with another input must conflict")
                return
            }
            guard case .conflict = try table.submit(newJob("sleep", input: "1", key: 7)) else {
                Issue.record("same key with another task must conflict")
                return
            }
            #expect(created(try table.submit(newJob(input: "1", key: 8))) != nil)
        }
    }

    @Test func refusesWhenTheQueueIsFull() throws {
        try withTable(jobs: 8, queue: 2) { table in
            _ = try table.submit(newJob())
            _ = try table.submit(newJob())
            guard case .queueFull(capacity: 2) = try table.submit(newJob()) else {
                Issue.record("a third job must not fit a queue of two")
                return
            }
            _ = try table.takeQueued(limit: 1)
            #expect(created(try table.submit(newJob())) != nil)
        }
    }

    @Test func evictsTheOldestFinishedJobWhenFull() throws {
        try withTable(jobs: 3, queue: 3) { table in
            var ids: [JobID] = []
            for number in 0..<3 { ids.append(try #require(created(try table.submit(newJob(input: "\(number)")))).id) }
            _ = try table.takeQueued(limit: 3)
            _ = try table.finish(ids[1], outcome: .succeeded([1]), retryable: false)
            _ = try table.finish(ids[0], outcome: .succeeded([0]), retryable: false)
            let fourth = try #require(created(try table.submit(newJob(input: "3"))))
            #expect(try table.job(ids[1]) == nil, "the job that finished first goes first")
            #expect(try table.job(ids[0]) != nil)
            #expect(fourth.id.slot == ids[1].slot)
            #expect(fourth.id.generation == ids[1].generation &+ 1)
            _ = try table.submit(newJob(input: "4"))
            guard case .tableFull = try table.submit(newJob(input: "5")) else {
                Issue.record("a table of unfinished jobs must refuse more")
                return
            }
            #expect(try table.status().evictedTotal == 2)
        }
    }

    @Test func evictsOnlyFinishedJobsPastTheirRetention() throws {
        try withTable(retentionMs: 1000) { table in
            let job = try #require(created(try table.submit(newJob())))
            _ = try table.takeQueued(limit: 1)
            _ = try table.finish(job.id, outcome: .succeeded([1]), retryable: false, now: 10_000)
            let waiting = try #require(created(try table.submit(newJob())))
            #expect(try table.evictExpired(now: 10_999) == 0)
            #expect(try table.evictExpired(now: 11_000) == 1)
            #expect(try table.job(job.id) == nil)
            #expect(try table.job(waiting.id) != nil)
        }
    }

    @Test func cancelsQueuedAndRunningJobsButNotFinishedOnes() throws {
        try withTable { table in
            let queued = try #require(created(try table.submit(newJob(input: "1"))))
            let running = try #require(created(try table.submit(newJob(input: "2", priority: 5))))
            _ = try table.takeQueued(limit: 1)
            guard case let .canceled(canceledQueued) = try table.cancel(queued.id),
                  case let .canceled(canceledRunning) = try table.cancel(running.id) else {
                Issue.record("both must cancel")
                return
            }
            #expect(canceledQueued.errorCode == .canceled)
            #expect(canceledQueued.startedAt == nil)
            #expect(canceledRunning.startedAt != nil)
            #expect(try table.states(of: [running.id]) == [.canceled])
            guard case .alreadyFinished = try table.cancel(queued.id) else {
                Issue.record("a second cancel must find it finished")
                return
            }
            guard case .notFound = try table.cancel(JobID(slot: 7, generation: 9, secret: 9)) else {
                Issue.record("an unknown job must not be found")
                return
            }
            #expect(try table.finish(running.id, outcome: .succeeded([1]), retryable: false) == .ignored)
        }
    }

    @Test func listsNewestFirstWithFiltersAndCursors() throws {
        try withTable(jobs: 32, queue: 32, dataBytes: 16384) { table in
            var ids: [JobID] = []
            for number in 0..<10 {
                ids.append(try #require(created(try table.submit(newJob(number % 2 == 0 ? "echo" : "sleep", input: "\(number)")))).id)
            }
            let first = try table.list(state: nil, task: nil, limit: 4, cursor: nil)
            #expect(first.jobs.map(\.id) == Array(ids.reversed().prefix(4)))
            let cursor = try #require(first.nextCursor.flatMap(ListCursor.init))
            let second = try table.list(state: nil, task: nil, limit: 4, cursor: cursor)
            #expect(second.jobs.map(\.id) == Array(ids.reversed().dropFirst(4).prefix(4)))
            let last = try table.list(state: nil, task: nil, limit: 4, cursor: ListCursor(second.nextCursor!))
            #expect(last.jobs.map(\.id) == [ids[1], ids[0]])
            #expect(last.nextCursor == nil)
            let sleeps = try table.list(state: nil, task: "sleep", limit: 50, cursor: nil)
            #expect(sleeps.jobs.map(\.id) == [ids[9], ids[7], ids[5], ids[3], ids[1]])
            let taken = try table.takeQueued(limit: 1)
            try table.setWorkers(taken.map { ($0.id, 4242) })
            let running = try table.list(state: .running, task: nil, limit: 50, cursor: nil)
            #expect(running.jobs.map(\.id) == [ids[0]])
            // A cursor whose job has gone still continues below it.
            _ = try table.cancel(ids[5])
            _ = try table.takeQueued(limit: 9)
            for id in ids[1...] { _ = try table.finish(id, outcome: .succeeded([1]), retryable: false) }
            let cut = ListCursor(slot: ids[5].slot, generation: ids[5].generation &+ 5, sequence: first.jobs[3].sequence - 1)
            let after = try table.list(state: nil, task: nil, limit: 2, cursor: cut)
            #expect(after.jobs.map(\.id) == [ids[4], ids[3]])
        }
    }

    @Test func rebuildsEverythingAfterAHolderDiedMidChange() throws {
        try withTable(jobs: 16, queue: 16, dataBytes: 8192) { table in
            var ids: [JobID] = []
            for number in 0..<12 {
                ids.append(try #require(created(try table.submit(newJob(input: String(repeating: "x", count: 100 + number * 50),
                                                                       priority: number % 3, key: UInt8(number))))).id)
            }
            let taken = try table.takeQueued(limit: 6)
            try table.setWorkers(taken.map { ($0.id, 1000) })
            for id in ids[0..<3] { _ = try table.finish(id, outcome: .succeeded([UInt8](repeating: 1, count: 300)), retryable: false) }
            _ = try table.cancel(ids[8])
            let before = try table.list(state: nil, task: nil, limit: 100, cursor: nil).jobs.map { "\($0.id) \($0.state)" }

            // What a process killed inside the lock leaves: its mark, and derived structures half-changed.
            table.header.writerPID = 999_999
            table.header.freeBlockHead = -1
            table.header.freeBlockCount = 0
            table.header.listTail = -1
            table.header.setQueueHead(11, -1)
            table.header.setStateCount(.queued, 77)

            let after = try table.list(state: nil, task: nil, limit: 100, cursor: nil).jobs.map { "\($0.id) \($0.state)" }
            #expect(after == before)
            #expect(try table.status().recoveries == 1)
            let queuedBefore = before.filter { $0.hasSuffix(" queued") }.count
            #expect(queuedBefore == 6)
            #expect(try table.takeQueued(limit: 100).count == queuedBefore)
            guard case .existing = try table.submit(newJob(input: String(repeating: "x", count: 100 + 11 * 50), priority: 2, key: 11)) else {
                Issue.record("the idempotency index must survive the rebuild")
                return
            }
        }
    }

    @Test func theCheckerNoticesABrokenList() throws {
        try withTable { table in
            let first = try #require(created(try table.submit(newJob())))
            _ = try #require(created(try table.submit(newJob())))
            table.slot(Int32(first.id.slot)).listNext = -1
            let problems = try table.check()
            #expect(!problems.isEmpty)
            try table.rebuildForTesting()
        }
    }

    @Test func refusesToAttachAStrangersSegment() throws {
        let key = uniqueTestKey()
        let stranger = try SharedMemorySegment.create(key: IPCKey(key), payloadSize: 4096,
                                                      layout: SegmentLayout(magic: 0x1234, version: 1))
        defer {
            try? stranger.remove()
            stranger.detach()
        }
        #expect(throws: (any Error).self) { try JobTable.attach(key: IPCKey(key)) }
    }

    @Test func aSecondProcessViewAttachesAndSeesTheSameJobs() throws {
        try withTable { table in
            let job = try #require(created(try table.submit(newJob())))
            let other = try JobTable.attach(key: table.key)
            defer { other.detach() }
            #expect(try other.job(job.id)?.sequence == job.sequence)
            let taken = try other.takeQueued(limit: 1)
            try other.setWorkers(taken.map { ($0.id, 4242) })
            #expect(try table.job(job.id)?.state == .running)
        }
    }
}

@Suite("A lock holder killed with SIGKILL")
struct KilledLockHolderTests {
    @Test func releasesTheLockAndTheNextHolderRepairsTheTable() throws {
        try withTable { table in
            let job = try #require(created(try table.submit(newJob())))
            let holder = try Harness.start(["table-hold-lock", "--key", "\(table.key.rawValue)"])
            try holder.waitForLine("locked")
            let semaphores = try SemaphoreSet.attach(key: table.key)
            #expect(try semaphores.lock(timeout: .milliseconds(200)) == false, "the holder must really hold the lock")
            holder.signal(SIGKILL)
            _ = try holder.wait(timeout: 10)
            // SEM_UNDO released the lock; the holder's mark makes this call rebuild the table first.
            #expect(try table.job(job.id)?.state == .queued)
            #expect(try table.status().recoveries == 1)
            #expect(try table.check() == [])
            #expect(created(try table.submit(newJob(input: "2"))) != nil)
        }
    }
}
