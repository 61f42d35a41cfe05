// forkpool-harness: forks and System V work on behalf of the tests.
//
// Usage: forkpool-harness COMMAND [ARGUMENTS...]
// Each command prints what the test checks on standard output and exits 0 on
// success; diagnostics go to standard error.
#if canImport(Glibc)
import Glibc
#endif

/// A harness command: takes its arguments (after the command name), returns the exit code.
typealias HarnessCommand = @Sendable ([String]) throws -> Int32

let commands: [String: HarnessCommand] = SemaphoreCommands.all
    .merging(PoolCommands.all) { first, _ in first }
    .merging(TableCommands.all) { first, _ in first }

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let command = commands[name] else {
    let known = commands.keys.sorted().joined(separator: ", ")
    complain("usage: forkpool-harness COMMAND [ARGUMENTS...]; commands: \(known)")
    exit(2)
}
do {
    exit(try command(Array(arguments.dropFirst())))
} catch {
    complain("forkpool-harness \(name): \(error)")
    exit(1)
}
