import Foundation
import SystemV
import Testing
import TestSupport

/// The System V objects as several processes see them, through forkpool-harness: the test
/// runner is multi-threaded and must never fork itself.
@Suite("SystemV across processes")
struct CrossProcessTests {
    /// The layout shm-orphan and shm-hold are told to use.
    static let layout = SegmentLayout(magic: 0x4650_4F52_5048_414E, version: 7)
    static var layoutArguments: [String] { ["--magic", "\(Self.layout.magic)", "--version", "\(Self.layout.version)"] }

    @Test("two processes contending for the lock never overlap and lose no update")
    func contention() throws {
        let iterations = 20_000
        try withFreshKey { key in
            try expectLines(Harness.run(["sem-setup", "--key", "\(key)"]), ["ready"])
            defer { _ = try? Harness.run(["sem-teardown", "--key", "\(key)"]) }

            let arguments = ["sem-contend", "--key", "\(key)", "--iterations", "\(iterations)", "--parties", "2"]
            let first = try Harness.start(arguments)
            let second = try Harness.start(arguments)
            try expectLines(first.wait(timeout: 180), ["violations 0"])
            try expectLines(second.wait(timeout: 180), ["violations 0"])
            try expectLines(Harness.run(["sem-read", "--key", "\(key)"]), ["counter \(2 * iterations)"])
        }
    }

    @Test("without the lock the same contention shows violations or lost updates (the check can fail)")
    func contentionWithoutLockIsCaught() throws {
        let iterations = 20_000
        try withFreshKey { key in
            try expectLines(Harness.run(["sem-setup", "--key", "\(key)"]), ["ready"])
            defer { _ = try? Harness.run(["sem-teardown", "--key", "\(key)"]) }

            let arguments = ["sem-contend", "--key", "\(key)", "--iterations", "\(iterations)", "--parties", "2",
                             "--unlocked", "1"]
            let runs = try [Harness.start(arguments), Harness.start(arguments)].map { try $0.wait(timeout: 180) }
            let violations = try runs.map { run -> Int in
                #expect(run.status == 0, "stderr: \(run.stderr)")
                let line = try #require(run.lines.first { $0.hasPrefix("violations ") })
                return try #require(Int(line.dropFirst("violations ".count)))
            }
            let counterLine = try #require(Harness.run(["sem-read", "--key", "\(key)"]).lines.first)
            let counter = try #require(Int(counterLine.dropFirst("counter ".count)))
            #expect(violations.reduce(0, +) > 0 || counter < 2 * iterations,
                    "unlocked contention went unnoticed: violations \(violations), counter \(counter)")
        }
    }

    @Test("a holder killed with SIGKILL does not block the others (SEM_UNDO)")
    func killedHolderReleases() throws {
        try withFreshKey { key in
            try expectLines(Harness.run(["sem-setup", "--key", "\(key)"]), ["ready"])
            defer { _ = try? Harness.run(["sem-teardown", "--key", "\(key)"]) }

            let holder = try Harness.start(["sem-hold", "--key", "\(key)"])
            defer { stop(holder) }
            try holder.waitForLine("locked")
            try expectLines(Harness.run(["sem-lock", "--key", "\(key)", "--timeout-ms", "200"]), ["timed out"])

            holder.signal(SIGKILL)
            let ended = try holder.wait(timeout: 30)
            #expect(ended.status == SIGKILL, "holder should have died of SIGKILL")

            try expectLines(Harness.run(["sem-lock", "--key", "\(key)", "--timeout-ms", "5000"]), ["acquired"])
            #expect(try SemaphoreSet.attach(key: key).value() == 1)
        }
    }

    @Test("signals interrupting a timed lock neither end it early nor stretch it")
    func interruptedTimedLockTimesOut() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            defer { try? set.remove() }
            try set.lock()
            defer { try? set.unlock() }

            // Were each interrupted wait restarted with the full timeout, alarms every 20 ms
            // would keep a 500 ms wait going until the harness deadline.
            let run = try Harness.run(
                ["sem-lock-interrupted", "--key", "\(key)", "--timeout-ms", "500", "--interval-ms", "20"], timeout: 30)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.lines.contains("interrupted"))
            #expect(run.lines.contains("timed out"))
            let interrupts = try #require(number(after: "interrupts ", in: run))
            let elapsed = try #require(number(after: "elapsed-ms ", in: run))
            #expect(interrupts >= 5)
            #expect(elapsed >= 500)
            #expect(elapsed < 5_000)
        }
    }

    @Test("a timed lock interrupted by signals still takes the lock when it comes free")
    func interruptedTimedLockAcquires() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            defer { try? set.remove() }
            try set.lock()

            let waiter = try Harness.start(
                ["sem-lock-interrupted", "--key", "\(key)", "--timeout-ms", "20000", "--interval-ms", "10"])
            defer { stop(waiter) }
            try waiter.waitForLine("interrupted")
            try set.unlock()

            let run = try waiter.wait(timeout: 30)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.lines.contains("acquired"))
            #expect(try #require(number(after: "interrupts ", in: run)) >= 1)
            #expect(try set.value() == 1)
        }
    }

    @Test("a segment whose creator died and that nothing attaches is reclaimed")
    func staleSegmentReclaimed() throws {
        try withFreshKey { key in
            let orphan = try Harness.start(["shm-orphan", "--key", "\(key)"] + Self.layoutArguments)
            try expectLines(orphan.wait(timeout: 60), ["created"])
            defer { _ = try? SharedMemorySegment.remove(key: key) }
            let old = try SharedMemorySegment.attach(key: key, layout: Self.layout)
            #expect(old.creatorPID == orphan.pid)
            old.detach()

            let segment = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? segment.remove() }
            #expect(segment.creatorPID == getpid())
            #expect(segment.id != old.id)
        }
    }

    @Test("a stale segment is kept when reclaiming is off")
    func staleSegmentKeptWithoutReclaim() throws {
        try withFreshKey { key in
            let orphan = try Harness.start(["shm-orphan", "--key", "\(key)"] + Self.layoutArguments)
            try expectLines(orphan.wait(timeout: 60), ["created"])
            defer { _ = try? SharedMemorySegment.remove(key: key) }

            #expect(throws: IPCError.inUse(key: key, creatorPID: orphan.pid)) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout, reclaimStale: false)
            }
        }
    }

    @Test("a segment whose creator is alive is refused; once it is killed, reclaimed")
    func liveCreatorRefused() throws {
        try withFreshKey { key in
            let holder = try Harness.start(["shm-hold", "--key", "\(key)"] + Self.layoutArguments)
            defer { stop(holder) }
            defer { _ = try? SharedMemorySegment.remove(key: key) }
            try holder.waitForLine("created")

            #expect(throws: IPCError.inUse(key: key, creatorPID: holder.pid)) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            }
            #expect(SystemVObjects.sharedMemoryKeys().contains(key.rawValue), "a live owner's segment must survive")

            holder.signal(SIGKILL)
            _ = try holder.wait(timeout: 30)
            let segment = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? segment.remove() }
            #expect(segment.creatorPID == getpid())
        }
    }

    @Test("a segment whose creator died but that others still attach is refused")
    func deadCreatorStillAttached() throws {
        try withFreshKey { key in
            let orphan = try Harness.start(["shm-orphan", "--key", "\(key)"] + Self.layoutArguments)
            try expectLines(orphan.wait(timeout: 60), ["created"])
            defer { _ = try? SharedMemorySegment.remove(key: key) }

            let user = try SharedMemorySegment.attach(key: key, layout: Self.layout)
            #expect(throws: IPCError.inUse(key: key, creatorPID: orphan.pid)) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            }
            user.detach()
            let segment = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? segment.remove() }
            #expect(segment.creatorPID == getpid())
        }
    }

    @Test("a dead process's segment of another layout is not ours to reclaim")
    func foreignOrphanKept() throws {
        try withFreshKey { key in
            let orphan = try Harness.start(["shm-orphan", "--key", "\(key)", "--magic", "0x1234", "--version", "1"])
            try expectLines(orphan.wait(timeout: 60), ["created"])
            defer { _ = try? SharedMemorySegment.remove(key: key) }

            #expect(throws: IPCError.self) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            }
            #expect(SystemVObjects.sharedMemoryKeys().contains(key.rawValue))
        }
    }

    /// Kills a harness that is still running and waits for it, so that no pid is signalled after reuse.
    private func stop(_ running: RunningHarness) {
        guard running.process.isRunning else { return }
        running.signal(SIGKILL)
        _ = try? running.wait(timeout: 30)
    }

    private func expectLines(
        _ output: HarnessOutput, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(output.status == 0, "stderr: \(output.stderr)", sourceLocation: sourceLocation)
        #expect(output.lines == expected, "stderr: \(output.stderr)", sourceLocation: sourceLocation)
    }

    private func number(after prefix: String, in output: HarnessOutput) -> Int? {
        output.lines.first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }
}
