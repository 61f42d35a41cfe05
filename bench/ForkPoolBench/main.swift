// forkpool-bench: throughput of the engine, without HTTP.
//
// Prints tasks per second for trivial tasks through the forking pool, with a
// fresh fork per task and with reused workers, at several worker counts, and
// System V semaphore lock+unlock pairs per second. Compare rows within one run:
// this machine is noisy. Run it with `make bench`.
#if canImport(Glibc)
import Glibc
#endif
import ProcessPool

let taskCount = 2000

/// Runs `taskCount` echo tasks and returns tasks per second; fails loudly if any result is missing or wrong.
func tasksPerSecond(workers: Int, tasksPerWorker: Int) throws -> Double {
    var registry = TaskRegistry()
    registry.register("echo") { input, _ in input }
    var configuration = PoolConfiguration()
    configuration.maximumWorkers = workers
    configuration.tasksPerWorker = tasksPerWorker
    let pool = try ProcessPool(configuration: configuration, registry: registry)
    let input = Array("trivial".utf8)
    let start = MonotonicClock.now
    for _ in 0..<taskCount { _ = try pool.submit(PoolTask(name: "echo", input: input)) }
    var succeeded = 0
    while let result = try pool.nextResult(timeout: .seconds(60)) {
        if case let .succeeded(bytes) = result.outcome, bytes == input { succeeded += 1 }
    }
    let elapsed = Double(MonotonicClock.now - start) / 1e9
    _ = try pool.shutdown(grace: .seconds(5))
    guard succeeded == taskCount else {
        throw PoolError.invalidConfiguration("only \(succeeded) of \(taskCount) tasks succeeded")
    }
    return Double(taskCount) / elapsed
}

func row(_ columns: [String]) {
    let widths = [26, 9, 14]
    print(zip(columns, widths).map { $0 + String(repeating: " ", count: max(1, $1 - $0.count)) }.joined())
}

/// Sections to run: all by default, or those named on the command line (to profile one alone).
let sections = Set(CommandLine.arguments.dropFirst())
func wanted(_ section: String) -> Bool { sections.isEmpty || sections.contains(section) }
let unknown = sections.subtracting(["fork", "reused", "semaphore"])
guard unknown.isEmpty else {
    print("usage: forkpool-bench [fork] [reused] [semaphore]  (unknown: \(unknown.sorted().joined(separator: " ")))")
    exit(2)
}

print("forkpool engine benchmark: \(taskCount) trivial tasks per row, no HTTP")
row(["mode", "workers", "tasks/s"])
for workers in [1, 4, 16] where wanted("fork") {
    row(["fork per task", "\(workers)", String(Int(try tasksPerSecond(workers: workers, tasksPerWorker: 1)))])
}
for workers in [1, 4, 16] where wanted("reused") {
    row(["reused workers", "\(workers)", String(Int(try tasksPerSecond(workers: workers, tasksPerWorker: taskCount)))])
}
if wanted("semaphore") {
    let pairs = 1_000_000
    let pairsPerSecond = try SemaphoreBenchmark.lockUnlockPairsPerSecond(pairs: pairs)
    print("")
    print("System V semaphore (SEM_UNDO) lock+unlock: \(Int(pairsPerSecond)) pairs/s, "
        + "\(String(Int(1e9 / pairsPerSecond))) ns per pair (\(pairs) pairs)")
}
