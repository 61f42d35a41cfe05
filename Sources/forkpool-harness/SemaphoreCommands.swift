#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemV

/// Harness commands that exercise the SystemV module across processes: mutual
/// exclusion between processes, SEM_UNDO after SIGKILL, EINTR during a timed wait,
/// and reclaiming a segment whose creator died.
enum SemaphoreCommands {
    static let all: [String: HarnessCommand] = [
        "sem-setup": setup,
        "sem-contend": contend,
        "sem-read": read,
        "sem-hold": hold,
        "sem-lock": timedLock,
        "sem-lock-interrupted": interruptedLock,
        "sem-teardown": teardown,
        "shm-orphan": orphan,
        "shm-hold": holdSegment,
    ]

    /// The segment the contention commands share.
    ///
    /// ```
    ///  payload offset  size  field
    ///               0     8  counter   incremented once per critical section
    ///               8     4  inside    1 while some process is in the critical section
    ///              12     4  arrived   contenders at the start line (see --parties)
    /// ```
    enum Contention {
        static let layout = SegmentLayout(magic: 0x4650_5345_4D54_4553, version: 1)  // "FPSEMTES"
        static let payloadSize = 64
        static let counter = 0
        static let inside = 8
        static let arrived = 12
    }

    /// The layout `shm-orphan` and `shm-hold` use unless told otherwise.
    static let defaultOrphanLayout = SegmentLayout(magic: 0x4650_4F52_5048_414E, version: 1)  // "FPORPHAN"

    /// `sem-setup --key K`: a one-semaphore set (free) and the contention segment; prints `ready`.
    static func setup(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        try options.finish()
        let set = try SemaphoreSet.create(key: key)
        do {
            let segment = try SharedMemorySegment.create(
                key: key, payloadSize: Contention.payloadSize, layout: Contention.layout, reclaimStale: false)
            segment.detach()
        } catch {
            try? set.remove()
            throw error
        }
        say("ready")
        return 0
    }

    /// `sem-contend --key K --iterations N [--parties P] [--unlocked 1]`: N critical sections
    /// that each notice whether another process is inside, then `violations V`.
    ///
    /// With `--parties P` the contenders wait for each other before starting, so their
    /// loops overlap. `--unlocked 1` skips the lock: the control that shows violations
    /// and lost updates are detected when mutual exclusion is missing.
    static func contend(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        let iterations = try options.int("iterations")
        let parties = try options.int("parties", default: 1)
        let unlocked = try options.int("unlocked", default: 0) != 0
        try options.finish()

        let set = try SemaphoreSet.attach(key: key)
        let segment = try SharedMemorySegment.attach(key: key, layout: Contention.layout)
        let payload = segment.payload

        try set.withLock {
            let arrived = payload.load(fromByteOffset: Contention.arrived, as: UInt32.self)
            payload.storeBytes(of: arrived + 1, toByteOffset: Contention.arrived, as: UInt32.self)
        }
        let startDeadline = monotonicMilliseconds() + 30_000
        func arrivedSoFar() throws -> Int {
            Int(try set.withLock { payload.load(fromByteOffset: Contention.arrived, as: UInt32.self) })
        }
        while try arrivedSoFar() < parties {
            guard monotonicMilliseconds() < startDeadline else {
                throw HarnessUsageError("the other \(parties - 1) contenders did not arrive within 30 s")
            }
            sched_yield()
        }

        var violations = 0
        for _ in 0..<iterations {
            let section = {
                if payload.load(fromByteOffset: Contention.inside, as: UInt32.self) != 0 { violations += 1 }
                payload.storeBytes(of: 1, toByteOffset: Contention.inside, as: UInt32.self)
                let counter = payload.load(fromByteOffset: Contention.counter, as: UInt64.self)
                // Hands the CPU to a contender in the middle of the read-modify-write.
                sched_yield()
                payload.storeBytes(of: counter + 1, toByteOffset: Contention.counter, as: UInt64.self)
                payload.storeBytes(of: 0, toByteOffset: Contention.inside, as: UInt32.self)
            }
            if unlocked { section() } else { try set.withLock(0, section) }
        }
        say("violations \(violations)")
        return 0
    }

    /// `sem-read --key K`: prints `counter C`, read under the lock.
    static func read(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        try options.finish()
        let set = try SemaphoreSet.attach(key: key)
        let segment = try SharedMemorySegment.attach(key: key, layout: Contention.layout)
        let counter = try set.withLock { segment.payload.load(fromByteOffset: Contention.counter, as: UInt64.self) }
        say("counter \(counter)")
        return 0
    }

    /// `sem-hold --key K [--max-seconds S]`: takes the lock, prints `locked`, and waits to be
    /// killed. SIGALRM ends it after S seconds (default 300) should the test never do so.
    static func hold(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        let maxSeconds = try options.int("max-seconds", default: 300)
        try options.finish()
        let set = try SemaphoreSet.attach(key: key)
        try set.lock()
        say("locked")
        waitToBeKilled(maxSeconds: maxSeconds)
    }

    /// `sem-lock --key K --timeout-ms T`: prints `acquired` (and unlocks) or `timed out`.
    static func timedLock(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        let timeout = try options.int("timeout-ms")
        try options.finish()
        let set = try SemaphoreSet.attach(key: key)
        if try set.lock(timeout: .milliseconds(timeout)) {
            say("acquired")
            try set.unlock()
        } else {
            say("timed out")
        }
        return 0
    }

    /// `sem-lock-interrupted --key K --timeout-ms T --interval-ms I`: a timed lock while
    /// SIGALRM arrives every I ms, its handler installed without SA_RESTART so each one
    /// interrupts the wait. Prints `waiting`; the handler writes `interrupted` at the first
    /// signal; then `acquired` or `timed out`, `interrupts N` and `elapsed-ms E`.
    static func interruptedLock(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        let timeout = try options.int("timeout-ms")
        let interval = try options.int("interval-ms")
        try options.finish()
        let set = try SemaphoreSet.attach(key: key)

        // Initialised here, not lazily inside the handler, where swift_once is not safe.
        _ = AlarmCounter.count.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = AlarmCounter.handler
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        guard sigaction(SIGALRM, &action, nil) == 0 else {
            throw SystemCallError(call: "sigaction(SIGALRM)", errno: errno)
        }
        try unblockAlarm()

        say("waiting")
        let start = monotonicMilliseconds()
        try setAlarmInterval(milliseconds: interval)
        let acquired = try set.lock(timeout: .milliseconds(timeout))
        try setAlarmInterval(milliseconds: 0)
        let elapsed = monotonicMilliseconds() - start
        if acquired { try set.unlock() }
        say(acquired ? "acquired" : "timed out")
        say("interrupts \(AlarmCounter.count.load(ordering: .relaxed))")
        say("elapsed-ms \(elapsed)")
        return 0
    }

    /// `sem-teardown --key K`: removes the set and the segment; prints `removed`.
    static func teardown(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        try options.finish()
        try SemaphoreSet.remove(key: key)
        try SharedMemorySegment.remove(key: key)
        say("removed")
        return 0
    }

    /// `shm-orphan --key K [--magic M] [--version V] [--payload-size B]`: creates a segment
    /// and exits without removing it, leaving it stale; prints `created`.
    static func orphan(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let (key, layout, payloadSize) = try segmentOptions(&options)
        try options.finish()
        let segment = try SharedMemorySegment.create(key: key, payloadSize: payloadSize, layout: layout, reclaimStale: false)
        segment.detach()
        say("created")
        return 0
    }

    /// `shm-hold --key K [--magic M] [--version V] [--payload-size B] [--max-seconds S]`:
    /// creates a segment, stays attached, prints `created`, and waits to be killed.
    static func holdSegment(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let (key, layout, payloadSize) = try segmentOptions(&options)
        let maxSeconds = try options.int("max-seconds", default: 300)
        try options.finish()
        let segment = try SharedMemorySegment.create(key: key, payloadSize: payloadSize, layout: layout, reclaimStale: false)
        say("created")
        withExtendedLifetime(segment) { waitToBeKilled(maxSeconds: maxSeconds) }
    }

    private static func segmentOptions(_ options: inout Options) throws -> (IPCKey, SegmentLayout, Int) {
        let key = try IPCKey(parsing: options.string("key"))
        let magic = try options.int("magic", default: Int(defaultOrphanLayout.magic))
        let version = try options.int("version", default: Int(defaultOrphanLayout.version))
        let payloadSize = try options.int("payload-size", default: 64)
        return (key, SegmentLayout(magic: UInt64(magic), version: UInt32(version)), payloadSize)
    }

    /// Sleeps in pause() until a signal ends the process; SIGALRM's default action does so
    /// after `maxSeconds`, so a forgotten harness cannot outlive its test run for long.
    private static func waitToBeKilled(maxSeconds: Int) -> Never {
        // A nil handler is SIG_DFL, which ends the process.
        _ = signal(SIGALRM, nil)
        try? unblockAlarm()
        alarm(UInt32(maxSeconds))
        while true { pause() }
    }

    /// The signal mask survives exec, and a multi-threaded parent (the test runner) may
    /// well have SIGALRM blocked: it would then never arrive here.
    private static func unblockAlarm() throws {
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGALRM)
        guard sigprocmask(SIG_UNBLOCK, &mask, nil) == 0 else {
            throw SystemCallError(call: "sigprocmask(SIG_UNBLOCK, {SIGALRM})", errno: errno)
        }
    }

    private static func setAlarmInterval(milliseconds: Int) throws {
        let period = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        var timer = itimerval(it_interval: period, it_value: period)
        guard setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil) == 0 else {
            throw SystemCallError(call: "setitimer(ITIMER_REAL, \(milliseconds) ms)", errno: errno)
        }
    }

    private static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}

/// Counts SIGALRMs for `sem-lock-interrupted`. The handler uses only a lock-free atomic
/// and write(2), both safe in a signal handler.
private enum AlarmCounter {
    static let count = Atomic<Int>(0)

    static let handler: @convention(c) (Int32) -> Void = { _ in
        let (before, _) = AlarmCounter.count.add(1, ordering: .relaxed)
        if before == 0 {
            let line: StaticString = "interrupted\n"
            _ = write(STDOUT_FILENO, line.utf8Start, line.utf8CodeUnitCount)
        }
    }
}
