#if canImport(Glibc)
import Glibc
#endif
import ProcessPool
import SystemV

/// Harness commands that drive a real `ProcessPool`: real forks, real socketpairs,
/// and a System V segment in which the tasks themselves count how many run at once.
enum PoolCommands {
    static let all: [String: HarnessCommand] = [
        "pool-run": run,
        "pool-faults": faults,
        "pool-priorities": priorities,
        "pool-controls": controls,
        "pool-shutdown": shutdown,
    ]

    // MARK: pool-run

    /// `pool-run --tasks N --workers W --tasks-per-worker K --key KEY [--sleep-us U] [--forking 0|1]`
    ///
    /// Runs N `track` tasks and checks every result against its task: prints
    /// `submitted`, `results`, `duplicates`, `mismatched`, `missing`, `failures`,
    /// `max-concurrency` (measured by the tasks in shared memory), `workers-started`,
    /// `distinct-workers`, `leaked-fds` and `children-left`.
    static func run(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let count = try options.int("tasks")
        let workers = try options.int("workers")
        let tasksPerWorker = try options.int("tasks-per-worker")
        let key = try IPCKey(parsing: options.string("key"))
        let sleepMicroseconds = try options.int("sleep-us", default: 200)
        let forking = try options.int("forking", default: 1) != 0
        try options.finish()

        let descriptorsBefore = openDescriptorCount()
        let gauge = try ConcurrencyGauge(key: key)
        defer { gauge.remove() }

        var registry = TaskRegistry()
        registry.register("track") { input, _ in
            try gauge.enter()
            usleep(UInt32(sleepMicroseconds))
            try gauge.leave()
            return Array("done:".utf8) + input
        }
        var configuration = PoolConfiguration()
        configuration.maximumWorkers = workers
        configuration.tasksPerWorker = tasksPerWorker
        configuration.forking = forking

        var expected: [UInt64: [UInt8]] = [:]
        var seen: Set<UInt64> = []
        var duplicates = 0, mismatched = 0, failures = 0
        var workerPIDs: Set<Int32> = []
        let pool = try ProcessPool(configuration: configuration, registry: registry)
        for index in 0..<count {
            let input = Array("task-\(index)".utf8)
            let id = try pool.submit(PoolTask(name: "track", input: input))
            expected[id] = Array("done:".utf8) + input
        }
        while let result = try pool.nextResult(timeout: .seconds(120)) {
            if !seen.insert(result.taskID).inserted { duplicates += 1 }
            workerPIDs.insert(result.workerPID)
            switch result.outcome {
            case let .succeeded(bytes):
                if expected[result.taskID] != bytes { mismatched += 1 }
            case let .failed(failure):
                failures += 1
                complain("task \(result.taskID) failed: \(failure)")
            }
        }
        let started = pool.workersStarted
        _ = try pool.shutdown(grace: .seconds(5))
        let missing = Set(expected.keys).subtracting(seen).count

        say("submitted \(count)")
        say("results \(seen.count)")
        say("duplicates \(duplicates)")
        say("mismatched \(mismatched)")
        say("missing \(missing)")
        say("failures \(failures)")
        say("max-concurrency \(try gauge.maximum())")
        say("workers-started \(started)")
        say("distinct-workers \(workerPIDs.count)")
        gauge.remove()
        say("leaked-fds \(openDescriptorCount() - descriptorsBefore)")
        say("children-left \(childrenLeft())")
        return 0
    }

    // MARK: pool-faults

    /// `pool-faults --tasks-per-worker K`: one task of each way to end, printed as
    /// `LABEL CODE signal=S exit=E elapsed-ms=T progress=P message=M` (CODE is `succeeded` or a failure code).
    static func faults(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let tasksPerWorker = try options.int("tasks-per-worker")
        try options.finish()

        var registry = TaskRegistry()
        registry.register("ok") { input, _ in input }
        registry.register("throw") { _, _ in throw TaskError("the input was not to my liking") }
        registry.register("segv") { _, _ in
            // A real invalid access, not raise(): a handler may return from a raised signal.
            UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1
            return []
        }
        registry.register("abort") { _, _ in abort() }
        registry.register("exit3") { _, _ in exit(3) }
        registry.register("sleep") { _, _ in sleep(30); return [] }
        registry.register("stubborn") { _, _ in
            signal(SIGTERM, SIG_IGN)
            while true { sleep(30) }
        }
        registry.register("progress") { _, context in
            for step in 1...5 { try context.reportProgress(percent: Double(step * 20), message: "step \(step)") }
            return Array("finished".utf8)
        }
        registry.register("huge") { _, _ in [UInt8](repeating: 0x41, count: 2 * 1024 * 1024) }

        var configuration = PoolConfiguration()
        configuration.maximumWorkers = 4
        configuration.tasksPerWorker = tasksPerWorker
        configuration.terminationGrace = .milliseconds(300)
        configuration.maximumFrameLength = 1024 * 1024
        let descriptorsBefore = openDescriptorCount()
        let pool = try ProcessPool(configuration: configuration, registry: registry)

        let plan: [(String, Duration?)] = [
            ("ok", nil), ("throw", nil), ("segv", nil), ("abort", nil), ("exit3", nil),
            ("sleep", .milliseconds(200)), ("stubborn", .milliseconds(200)), ("progress", nil), ("huge", nil), ("ok", nil),
        ]
        var labels: [UInt64: String] = [:]
        var started: [UInt64: MonotonicClock.Instant] = [:]
        for (name, timeout) in plan {
            let id = try pool.submit(PoolTask(name: name, input: Array("hello".utf8), timeout: timeout))
            labels[id] = name
            started[id] = MonotonicClock.now
        }
        var lines: [String] = []
        while let result = try pool.nextResult(timeout: .seconds(30)) {
            let elapsed = (MonotonicClock.now - started[result.taskID]!) / 1_000_000
            let label = labels[result.taskID] ?? "?"
            switch result.outcome {
            case let .succeeded(bytes):
                let text = bytes.count > 64 ? "\(bytes.count) bytes" : String(decoding: bytes, as: UTF8.self)
                lines.append("\(label) succeeded signal=- exit=- elapsed-ms=\(elapsed) progress=\(result.progressCount) message=\(text)")
            case let .failed(failure):
                lines.append("\(label) \(failure.code.rawValue) signal=\(failure.signal.map(String.init) ?? "-") "
                    + "exit=\(failure.exitCode.map(String.init) ?? "-") elapsed-ms=\(elapsed) progress=\(result.progressCount) "
                    + "message=\(failure.message)")
            }
        }
        _ = try pool.shutdown(grace: .seconds(5))
        lines.sorted().forEach(say)
        say("leaked-fds \(openDescriptorCount() - descriptorsBefore)")
        say("children-left \(childrenLeft())")
        return 0
    }

    // MARK: pool-priorities

    /// `pool-priorities --forking 0|1`: one worker, tasks of mixed priority; prints
    /// the order they ran in as `order P:N P:N ...` (priority and submission number).
    static func priorities(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let forking = try options.int("forking") != 0
        try options.finish()

        var registry = TaskRegistry()
        registry.register("mark") { input, _ in input }
        var configuration = PoolConfiguration()
        configuration.maximumWorkers = 1
        configuration.tasksPerWorker = 100
        configuration.forking = forking
        let pool = try ProcessPool(configuration: configuration, registry: registry)
        let priorities = [0, 5, -1, 5, 10, 0, -10, 10]
        for (number, priority) in priorities.enumerated() {
            _ = try pool.submit(PoolTask(name: "mark", input: Array("\(priority):\(number)".utf8), priority: priority))
        }
        var order: [String] = []
        var pids: Set<Int32> = []
        for result in try pool.allResults(timeout: .seconds(30)) {
            guard case let .succeeded(bytes) = result.outcome else { continue }
            order.append(String(decoding: bytes, as: UTF8.self))
            pids.insert(result.workerPID)
        }
        let started = pool.workersStarted
        _ = try pool.shutdown()
        say("order \(order.joined(separator: " "))")
        say("workers-started \(started)")
        say("ran-in-harness \(pids == [getpid()] ? 1 : 0)")
        say("children-left \(childrenLeft())")
        return 0
    }

    // MARK: pool-controls

    /// `pool-controls --key KEY`: the pool's knobs, each printed as `NAME VALUE` lines:
    /// clearing the queue, canceling waiting and running tasks, killing a worker,
    /// killing all, raising and lowering the maximum at run time, and the hooks.
    static func controls(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        try options.finish()

        let gauge = try ConcurrencyGauge(key: key)
        defer { gauge.remove() }
        nonisolated(unsafe) var startedHookRan = false
        var registry = TaskRegistry()
        registry.register("hook-check") { _, _ in Array((startedHookRan ? "hook-ran" : "no-hook").utf8) }
        registry.register("hold") { _, _ in
            try gauge.enter()
            usleep(100_000)
            try gauge.leave()
            return []
        }
        registry.register("forever") { _, _ in
            while true { sleep(30) }
        }
        var configuration = PoolConfiguration()
        configuration.maximumWorkers = 1
        configuration.tasksPerWorker = 1000
        var createdPIDs: [Int32] = []
        let hooks = PoolHooks(workerStarted: { startedHookRan = true }, workerCreated: { createdPIDs.append($0) })
        let pool = try ProcessPool(configuration: configuration, registry: registry, hooks: hooks)

        // Hooks: the child-side hook ran before the task; the parent-side one saw the pid.
        let hookID = try pool.submit(PoolTask(name: "hook-check"))
        let hookResult = try pool.nextResult(timeout: .seconds(10))
        say("hook-result \(describe(hookResult, expecting: hookID))")
        say("created-hook-pids-match \(createdPIDs == pool.workerPIDs ? 1 : 0)")
        say("parent-hook-flag \(startedHookRan ? 1 : 0)")

        // Clearing the queue: nothing starts, each cleared task still gets a canceled result.
        for _ in 0..<5 { _ = try pool.submit(PoolTask(name: "hold")) }
        let cleared = pool.clearPending()
        let clearedResults = try pool.allResults(timeout: .seconds(10))
        say("cleared \(cleared.count) canceled-results \(clearedResults.filter { $0.outcome.code == "canceled" }.count) pending \(pool.pendingCount)")

        // Maximum at run time: 1 worker, then 3.
        try gauge.reset()
        for _ in 0..<6 { _ = try pool.submit(PoolTask(name: "hold")) }
        _ = try pool.allResults(timeout: .seconds(30))
        say("concurrency-at-max-1 \(try gauge.maximum())")
        try gauge.reset()
        pool.maximumWorkers = 3
        for _ in 0..<9 { _ = try pool.submit(PoolTask(name: "hold")) }
        _ = try pool.allResults(timeout: .seconds(30))
        say("concurrency-at-max-3 \(try gauge.maximum())")
        pool.maximumWorkers = 1
        try pool.poll(timeout: .milliseconds(1))
        let shrinkDeadline = MonotonicClock.deadline(after: .seconds(10))
        while pool.workerPIDs.count > 1 && MonotonicClock.now < shrinkDeadline { try pool.poll(timeout: .milliseconds(50)) }
        say("workers-after-lowering \(pool.workerPIDs.count)")

        // Cancel: a waiting task and a running one.
        let running = try pool.submit(PoolTask(name: "forever"))
        let waiting = try pool.submit(PoolTask(name: "forever"))
        try waitUntilRunning(pool)
        say("cancel-waiting \(pool.cancel(waiting) ? 1 : 0) cancel-running \(pool.cancel(running) ? 1 : 0) cancel-unknown \(pool.cancel(999_999) ? 1 : 0)")
        for result in try pool.allResults(timeout: .seconds(10)) {
            say("canceled \(result.taskID == running ? "running" : "waiting") \(result.outcome.code) \(result.outcome.message)")
        }

        // Killing one worker with a signal, then all of them.
        _ = try pool.submit(PoolTask(name: "forever"))
        try waitUntilRunning(pool)
        pool.kill(worker: pool.workerPIDs[0], signal: SIGUSR1)
        if let result = try pool.nextResult(timeout: .seconds(10)) {
            say("killed-one \(result.outcome.code) \(result.outcome.message)")
        }
        pool.maximumWorkers = 2
        _ = try pool.submit(PoolTask(name: "forever"))
        _ = try pool.submit(PoolTask(name: "forever"))
        try waitUntilRunning(pool, count: 2)
        pool.killAll(signal: SIGKILL)
        let killedAll = try pool.allResults(timeout: .seconds(10))
        say("killed-all \(killedAll.count) \(Set(killedAll.map { $0.outcome.code }).sorted().joined(separator: ","))")

        let remaining = try pool.shutdown(grace: .seconds(2))
        say("after-shutdown remaining=\(remaining.count) workers=\(pool.workerPIDs.count)")
        say("children-left \(childrenLeft())")
        return 0
    }

    // MARK: pool-shutdown

    /// `pool-shutdown`: two quick tasks, two that never end and three still waiting,
    /// then `shutdown(grace: 1 s)`; prints `outcomes CODE=N,...`, `elapsed-ms`, `children-left`.
    static func shutdown(_ arguments: [String]) throws -> Int32 {
        try Options(arguments).finish()
        var registry = TaskRegistry()
        registry.register("quick") { input, _ in
            usleep(300_000)
            return input
        }
        registry.register("forever") { _, _ in
            signal(SIGTERM, SIG_IGN)
            while true { sleep(30) }
        }
        var configuration = PoolConfiguration()
        configuration.maximumWorkers = 4
        configuration.tasksPerWorker = 10
        configuration.terminationGrace = .milliseconds(200)
        let descriptorsBefore = openDescriptorCount()
        let pool = try ProcessPool(configuration: configuration, registry: registry)
        for name in ["quick", "quick", "forever", "forever", "quick", "quick", "quick"] {
            _ = try pool.submit(PoolTask(name: name))
        }
        try waitUntilRunning(pool, count: 4)
        let start = MonotonicClock.now
        let results = try pool.shutdown(grace: .seconds(1))
        let elapsed = (MonotonicClock.now - start) / 1_000_000
        var outcomes: [String: Int] = [:]
        for result in results { outcomes[result.outcome.code, default: 0] += 1 }
        say("outcomes \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))")
        say("shutdown-messages \(Set(results.compactMap { $0.outcome.code == "shutdown" ? $0.outcome.message : nil }).count)")
        say("elapsed-ms \(elapsed)")
        say("submit-after-shutdown \((try? pool.submit(PoolTask(name: "quick"))) == nil ? "refused" : "accepted")")
        say("leaked-fds \(openDescriptorCount() - descriptorsBefore)")
        say("children-left \(childrenLeft())")
        return 0
    }

    private static func waitUntilRunning(_ pool: ProcessPool, count: Int = 1) throws {
        let deadline = MonotonicClock.deadline(after: .seconds(10))
        while pool.activeCount < count {
            guard MonotonicClock.now < deadline else { throw HarnessUsageError("tasks did not start within 10 s") }
            try pool.poll(timeout: .milliseconds(20))
        }
    }

    private static func describe(_ result: TaskResult?, expecting id: UInt64) -> String {
        guard let result, result.taskID == id else { return "missing" }
        if case let .succeeded(bytes) = result.outcome { return String(decoding: bytes, as: UTF8.self) }
        return result.outcome.code
    }
}

extension TaskOutcome {
    /// `succeeded` or the failure's code, for printing.
    var code: String {
        switch self {
        case .succeeded: return "succeeded"
        case let .failed(failure): return failure.code.rawValue
        }
    }

    var message: String {
        if case let .failed(failure) = self { return failure.message }
        return ""
    }
}

/// Descriptors this process has open, from /proc/self/fd.
func openDescriptorCount() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
    }
    return count
}

/// 0 when this process has no child left, reaped or not; otherwise how many waitpid still finds.
func childrenLeft() -> Int {
    var count = 0
    var status: Int32 = 0
    while true {
        let pid = waitpid(-1, &status, WNOHANG)
        if pid > 0 { count += 1; continue }
        if pid == 0 { return count + 1 }  // a child that has not exited yet
        return count  // ECHILD: none at all
    }
}
