import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import SystemV
import TestSupport
@testable import JobStore

/// Reads of one job skip the semaphore when no change is under way (a seqlock on the
/// table). These tests change the table as fast as possible from another attachment while
/// reading, and check that every answer is one job's whole, true state.
@Suite("Reading a job without the lock")
struct ReadWithoutLockTests {
    /// What the writer stores for the job `id`: its result names the id and has a length
    /// that depends on it, so chains of several blocks are freed and reused all the time.
    static func expectedResult(for id: JobID) -> [UInt8] {
        let text = id.description
        return Array(text.utf8) + [UInt8](repeating: UInt8(ascii: "a") + UInt8(id.secret % 26), count: Int(id.secret % 2000))
    }

    static func task(for id: JobID) -> String { "task-\(id.secret % 7)" }

    @Test func answersStayWholeWhileAnotherAttachmentChangesTheTable() throws {
        try withTable(jobs: 8, queue: 8, dataBytes: 65536) { table in
            let writer = try JobTable.attach(key: table.key)
            defer { writer.detach() }
            let recent = Mutex<[JobID]>([])
            let stop = Atomic<Bool>(false)
            let writerDone = Atomic<Bool>(false)
            let writerError = Mutex<String?>(nil)
            Thread.detachNewThread {
                defer { writerDone.store(true, ordering: .sequentiallyConsistent) }
                do {
                    var round: UInt64 = 0
                    while !stop.load(ordering: .relaxed) {
                        round += 1
                        // The id is known only after the submit, so the task name comes from the round.
                        guard case let .created(job) = try writer.submit(newJob("task-\(round % 7)", input: "\(round)")) else {
                            continue
                        }
                        recent.withLock { ids in
                            ids.append(job.id)
                            if ids.count > 8 { ids.removeFirst() }
                        }
                        _ = try writer.takeQueued(limit: 8)
                        try writer.setWorkers([(job.id, Int32(truncatingIfNeeded: round))])
                        _ = try writer.finish(job.id, outcome: .succeeded(Self.expectedResult(for: job.id)), retryable: false)
                    }
                } catch {
                    writerError.withLock { $0 = "\(error)" }
                }
            }
            defer { stop.store(true, ordering: .relaxed) }

            var seen = 0
            var finishedSeen = 0
            var wrong: [String] = []
            let deadline = Date().addingTimeInterval(30)
            while (finishedSeen < 90000 || table.readsWithoutLock < 30000) && Date() < deadline && wrong.count < 5 {
                // Mostly the oldest: the next submits evict them and reuse their slots and blocks.
                guard let id = recent.withLock({ $0.prefix(Bool.random() ? 2 : 8).randomElement() }) else { continue }
                guard let job = try table.job(id) else { continue }  // evicted meanwhile: a whole answer too
                seen += 1
                if job.id != id { wrong.append("asked for \(id), got \(job.id)") }
                if job.task.hasPrefix("task-") == false { wrong.append("task name \(job.task.debugDescription) for \(id)") }
                switch job.state {
                case .succeeded:
                    finishedSeen += 1
                    if job.result != Self.expectedResult(for: id) {
                        wrong.append("result of \(id): \(String(decoding: job.result ?? [], as: UTF8.self).prefix(60))")
                    }
                    if job.finishedAt == nil { wrong.append("\(id) succeeded without finished_at") }
                case .queued, .running:
                    if job.result != nil { wrong.append("\(id) is \(job.state) with a result") }
                default:
                    wrong.append("\(id) is \(job.state)")
                }
            }
            stop.store(true, ordering: .relaxed)
            let writerDeadline = Date().addingTimeInterval(10)
            while !writerDone.load(ordering: .sequentiallyConsistent) && Date() < writerDeadline { usleep(1000) }
            let stopped = writerDone.load(ordering: .sequentiallyConsistent)
            #expect(stopped, "the writer thread must stop")
            #expect(writerError.withLock { $0 } == nil)
            #expect(wrong.isEmpty, "\(wrong)")
            #expect(finishedSeen >= 90000, "finished jobs read: \(finishedSeen) of \(seen)")
            // The point of the test: most reads really went without the lock while the writer ran.
            #expect(table.readsWithoutLock >= 30000, "reads without the lock: \(table.readsWithoutLock) of \(seen)")
        }
    }

    @Test func afterAHolderDiedMidChangeReadsTakeTheLockUntilTheTableIsRepaired() throws {
        try withTable { table in
            let job = try #require(created(try table.submit(newJob())))
            let before = table.readsWithoutLock
            #expect(try table.job(job.id)?.state == .queued)
            #expect(table.readsWithoutLock == before + 1, "a still table is read without the lock")
            // Another process inside its change, then killed there: the sequence stays odd.
            let holder = try Harness.start(["table-hold-lock", "--key", "\(table.key.rawValue)"])
            try holder.waitForLine("locked")
            let reader = try JobTable.attach(key: table.key)
            defer { reader.detach() }
            let semaphores = try SemaphoreSet.attach(key: table.key)
            #expect(try semaphores.lock(timeout: .milliseconds(100)) == false, "the holder must really hold the lock")
            holder.signal(SIGKILL)
            _ = try holder.wait(timeout: 10)
            // The dead holder left the sequence odd: the read goes through the lock, which repairs the table.
            #expect(try reader.job(job.id)?.state == .queued)
            #expect(reader.readsWithoutLock == 0)
            #expect(try reader.status().recoveries == 1)
            #expect(try reader.job(job.id)?.state == .queued)
            #expect(reader.readsWithoutLock == 1, "after the repair the table is still again")
        }
    }
}
