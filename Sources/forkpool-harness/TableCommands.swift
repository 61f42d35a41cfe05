#if canImport(Glibc)
import Glibc
#endif
import JobStore
import SystemV

/// Harness commands on the job table across processes.
enum TableCommands {
    static let all: [String: HarnessCommand] = [
        "table-hold-lock": holdLock,
    ]

    /// `table-hold-lock --key K`: attaches to the table, takes its lock as an operation
    /// would, prints `locked` and waits inside it until killed (at most 300 s).
    static func holdLock(_ arguments: [String]) throws -> Int32 {
        var options = try Options(arguments)
        let key = try IPCKey(parsing: options.string("key"))
        try options.finish()
        let table = try JobTable.attach(key: key)
        try table.whileLocked {
            say("locked")
            for _ in 0..<300 { sleep(1) }
        }
        return 0
    }
}
