import Testing
import TestSupport

/// The `NAME VALUE` lines a harness command printed, as a dictionary.
private func fields(_ output: HarnessOutput) -> [String: String] {
    var result: [String: String] = [:]
    for line in output.lines {
        let parts = line.split(separator: " ", maxSplits: 1)
        if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
    }
    return result
}

private func runHarness(_ arguments: [String], key: Int32? = nil, timeout: Double = 120) throws -> HarnessOutput {
    let output = try Harness.run(arguments, timeout: timeout)
    #expect(output.status == 0, "harness \(arguments) failed: \(output.stderr)")
    if let key {
        #expect(SystemVObjects.leftovers(among: [key]).isEmpty, "System V objects left with key \(key)")
    }
    return output
}

@Suite("The forking pool, driven through forkpool-harness", .serialized)
struct PoolHarnessTests {
    @Test("1000 tasks, each result exactly once and matched to its task", arguments: [
        (tasksPerWorker: 1, workers: 8),
        (tasksPerWorker: 50, workers: 8),
    ])
    func thousandTasks(tasksPerWorker: Int, workers: Int) throws {
        let key = uniqueTestKey()
        let output = try runHarness(["pool-run", "--tasks", "1000", "--workers", "\(workers)",
                                     "--tasks-per-worker", "\(tasksPerWorker)", "--key", "\(key)"], key: key)
        let f = fields(output)
        #expect(f["submitted"] == "1000")
        #expect(f["results"] == "1000")
        #expect(f["duplicates"] == "0")
        #expect(f["mismatched"] == "0")
        #expect(f["missing"] == "0")
        #expect(f["failures"] == "0")
        let concurrency = Int(f["max-concurrency"] ?? "") ?? -1
        #expect(concurrency <= workers, "more tasks ran at once than the maximum")
        #expect(concurrency >= 2, "the tasks never overlapped, so the gauge proves nothing")
        let started = Int(f["workers-started"] ?? "") ?? -1
        if tasksPerWorker == 1 {
            #expect(started == 1000, "fork per task must fork once per task")
        } else {
            #expect(started >= 1000 / tasksPerWorker && started < 1000, "reused workers: \(started) forks")
        }
        #expect(f["leaked-fds"] == "0")
        #expect(f["children-left"] == "0")
    }

    @Test("Synchronous mode runs every task in the calling process")
    func synchronousMode() throws {
        let key = uniqueTestKey()
        let output = try runHarness(["pool-run", "--tasks", "200", "--workers", "4", "--tasks-per-worker", "1",
                                     "--key", "\(key)", "--forking", "0", "--sleep-us", "0"], key: key)
        let f = fields(output)
        #expect(f["results"] == "200")
        #expect(f["mismatched"] == "0")
        #expect(f["workers-started"] == "0")
        #expect(f["distinct-workers"] == "1")
        #expect(f["max-concurrency"] == "1")
    }

    @Test("Crashes, exits, throws, timeouts and progress each end with their cause", arguments: [1, 100])
    func faults(tasksPerWorker: Int) throws {
        let output = try runHarness(["pool-faults", "--tasks-per-worker", "\(tasksPerWorker)"], timeout: 60)
        var byLabel: [String: [String]] = [:]
        for line in output.lines {
            let label = String(line.split(separator: " ").first ?? "")
            byLabel[label, default: []].append(line)
        }
        func line(_ label: String) -> String { byLabel[label]?.first ?? "(no line for \(label))" }

        #expect(byLabel["ok"]?.count == 2)
        #expect(byLabel["ok"]?.allSatisfy { $0.contains(" succeeded ") && $0.hasSuffix("message=hello") } == true)
        #expect(line("throw").contains(" task_error "))
        #expect(line("throw").contains("message=the input was not to my liking"))
        #expect(line("segv").contains(" worker_crashed signal=11 "))
        #expect(line("segv").contains("SIGSEGV"))
        #expect(line("abort").contains(" worker_crashed signal=6 "))
        #expect(line("abort").contains("SIGABRT"))
        #expect(line("exit3").contains(" worker_crashed signal=- exit=3 "))
        #expect(line("exit3").contains("exited with code 3"))
        #expect(line("sleep").contains(" timeout signal=15 "), "a sleeping task dies of SIGTERM")
        #expect(line("stubborn").contains(" timeout signal=9 "), "a task ignoring SIGTERM is killed with SIGKILL")
        #expect(line("stubborn").contains("SIGKILL"))
        for label in ["sleep", "stubborn"] {
            let elapsed = line(label).split(separator: " ").first { $0.hasPrefix("elapsed-ms=") }
                .flatMap { Int($0.dropFirst("elapsed-ms=".count)) } ?? -1
            #expect(elapsed >= 200, "\(label) ended before its 200 ms timeout")
            #expect(elapsed < 10_000, "\(label) was not stopped")
        }
        #expect(line("progress").contains(" succeeded "))
        #expect(line("progress").contains("progress=5 "))
        #expect(line("huge").contains(" result_too_large "))
        #expect(line("leaked-fds") == "leaked-fds 0")
        #expect(line("children-left") == "children-left 0")
    }

    @Test("Higher priority first, FIFO within a priority", arguments: [0, 1])
    func priorities(forking: Int) throws {
        let output = try runHarness(["pool-priorities", "--forking", "\(forking)"])
        let f = fields(output)
        #expect(f["order"] == "10:4 10:7 5:1 5:3 0:0 0:5 -1:2 -10:6")
        #expect(f["ran-in-harness"] == (forking == 1 ? "0" : "1"))
        #expect(f["workers-started"] == (forking == 1 ? "1" : "0"))
        #expect(f["children-left"] == "0")
    }

    @Test("Clear, cancel, kill, run-time maximum and hooks")
    func controls() throws {
        let key = uniqueTestKey()
        let output = try runHarness(["pool-controls", "--key", "\(key)"], key: key, timeout: 60)
        let f = fields(output)
        #expect(f["hook-result"] == "hook-ran")
        #expect(f["created-hook-pids-match"] == "1")
        #expect(f["parent-hook-flag"] == "0", "the worker-started hook must run in the worker, not the pool")
        #expect(f["cleared"] == "5 canceled-results 5 pending 0")
        #expect(f["concurrency-at-max-1"] == "1")
        #expect(Int(f["concurrency-at-max-3"] ?? "") ?? 0 >= 2)
        #expect(Int(f["concurrency-at-max-3"] ?? "") ?? 99 <= 3)
        #expect(f["workers-after-lowering"] == "1")
        #expect(f["cancel-waiting"] == "1 cancel-running 1 cancel-unknown 0")
        let canceled = output.lines.filter { $0.hasPrefix("canceled ") }
        #expect(canceled.count == 2)
        #expect(canceled.allSatisfy { $0.contains(" canceled ") })
        #expect(canceled.contains { $0.hasPrefix("canceled running") && $0.contains("SIGTERM") })
        #expect(f["killed-one"]?.hasPrefix("worker_crashed") == true)
        #expect(f["killed-one"]?.contains("SIGUSR1") == true)
        #expect(f["killed-all"] == "2 worker_crashed")
        #expect(f["after-shutdown"] == "remaining=0 workers=0")
        #expect(f["children-left"] == "0")
    }

    @Test("Shutdown lets running tasks finish within the grace, then stops the rest")
    func shutdown() throws {
        let output = try runHarness(["pool-shutdown"], timeout: 30)
        let f = fields(output)
        #expect(f["outcomes"] == "canceled=3,shutdown=2,succeeded=2")
        let elapsed = Int(f["elapsed-ms"] ?? "") ?? -1
        #expect(elapsed >= 1000, "the grace period was cut short")
        #expect(elapsed < 5000, "shutdown did not escalate to SIGKILL")
        #expect(f["submit-after-shutdown"] == "refused")
        #expect(f["leaked-fds"] == "0")
        #expect(f["children-left"] == "0")
    }
}
