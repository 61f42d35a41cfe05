import JobService
import JobStore
import JSON
import SystemV

/// `forkpool status [--json] [--port N | --ipc-key KEY]`: reads a running server's segment.
enum StatusCommand {
    static let specs: [FlagSpec] = [
        FlagSpec(name: "json", valueName: "", help: "print the /v1/status object", defaultText: nil, isSwitch: true),
        FlagSpec(name: "port", valueName: "N", help: "the server's port, to find its segment", defaultText: "8080"),
        FlagSpec(name: "ipc-key", valueName: "KEY", help: "the server's System V key (wins over --port)", defaultText: nil),
        FlagSpec(name: "state-file", valueName: "PATH", help: "the server's state file, when it keeps one", defaultText: nil),
        FlagSpec(name: "check", valueName: "", help: "check every invariant of the table; exit 1 if one is broken", defaultText: nil, isSwitch: true),
    ]

    static func run(_ flags: ParsedFlags) throws -> Int32 {
        let key: IPCKey
        if let text = flags.string("ipc-key") {
            do { key = try IPCKey(parsing: text) } catch { throw UsageError("--ipc-key \(text): \(error)") }
        } else {
            key = ServiceSettings.defaultKey(port: try flags.integer("port", 1...65535, default: 8080))
        }
        let table: JobTable
        do {
            if let path = flags.string("state-file") {
                table = try JobTable.attach(stateFile: path, key: key)
            } else {
                table = try JobTable.attach(key: key)
            }
        } catch {
            logLine("status", "no running forkpool server with key \(key): \(error)")
            return 1
        }
        defer { table.detach() }
        if flags.isSet("check") {
            let problems = try table.check()
            printNow(problems.isEmpty ? "table sound" : problems.joined(separator: "\n"))
            return problems.isEmpty ? 0 : 1
        }
        let status = try table.status()
        if flags.isSet("json") {
            printNow(String(decoding: JSONWriter.encode(StatusReport.json(status)), as: UTF8.self))
        } else {
            printNow(StatusReport.text(status))
        }
        return 0
    }
}
