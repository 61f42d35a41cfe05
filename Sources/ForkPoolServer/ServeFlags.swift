#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import JobService
import Logging
import SystemV
import Tasks

/// The flags of `forkpool serve` and how they become `ServiceSettings`.
enum ServeFlags {
    static let cpus = max(1, Int(fp_affinity_cpu_count()))

    static let specs: [FlagSpec] = [
        FlagSpec(name: "host", valueName: "ADDR", help: "address to listen on", defaultText: "0.0.0.0"),
        FlagSpec(name: "port", valueName: "N", help: "TCP port; 0 picks a free one", defaultText: "8080"),
        FlagSpec(name: "frontends", valueName: "N", help: "HTTP front-end processes", defaultText: "CPUs in the affinity mask (\(cpus))"),
        FlagSpec(name: "workers", valueName: "N", help: "most worker processes at once", defaultText: "2 x CPUs (\(2 * cpus))"),
        FlagSpec(name: "tasks-per-worker", valueName: "N", help: "tasks a worker runs before it is replaced; 1 forks per task", defaultText: "100"),
        FlagSpec(name: "token", valueName: "SECRET", help: "require Authorization: Bearer SECRET (not on /healthz, /readyz, /metrics)", defaultText: nil),
        FlagSpec(name: "token-file", valueName: "PATH", help: "read the token from a file (first line)", defaultText: nil),
        FlagSpec(name: "config", valueName: "FILE", help: "command tasks (YAML or JSON), checked at start-up", defaultText: nil),
        FlagSpec(name: "state-file", valueName: "PATH", help: "keep the job table in this file so a restart loses no job", defaultText: "none: a System V segment"),
        FlagSpec(name: "ipc-key", valueName: "KEY", help: "System V key: decimal, 0x hex, or an existing path for ftok", defaultText: "0x4650 + port in hex"),
        FlagSpec(name: "max-body-bytes", valueName: "N", help: "largest request body", defaultText: "1048576"),
        FlagSpec(name: "max-result-bytes", valueName: "N", help: "largest task result, at least the body limit", defaultText: "the body limit"),
        FlagSpec(name: "default-timeout-ms", valueName: "N", help: "timeout of a job that names none", defaultText: "300000"),
        FlagSpec(name: "max-timeout-ms", valueName: "N", help: "cap on a job's timeout_ms", defaultText: "3600000"),
        FlagSpec(name: "queue-capacity", valueName: "N", help: "most queued jobs; more is 429", defaultText: "10000"),
        FlagSpec(name: "job-capacity", valueName: "N", help: "jobs the table holds, finished ones included", defaultText: "100000"),
        FlagSpec(name: "store-bytes", valueName: "N", help: "room for inputs, results and messages in the segment", defaultText: "268435456"),
        FlagSpec(name: "retention-seconds", valueName: "N", help: "how long finished jobs are kept at least (while space allows)", defaultText: "3600"),
        FlagSpec(name: "shutdown-grace-seconds", valueName: "N", help: "time running jobs get to finish after SIGTERM", defaultText: "10"),
        FlagSpec(name: "connection-timeout-seconds", valueName: "N", help: "idle HTTP connections are closed after this", defaultText: "30"),
        FlagSpec(name: "max-connections", valueName: "N", help: "open connections per front-end", defaultText: "1024"),
        FlagSpec(name: "log-format", valueName: "text|json", help: "log lines as readable text or as JSON", defaultText: "text"),
        FlagSpec(name: "log-level", valueName: "LEVEL", help: "trace, debug, info, notice, warning, error or critical", defaultText: "info"),
        FlagSpec(name: "max-connections-per-ip", valueName: "N", help: "open connections per client address per front-end; 0: no limit", defaultText: "0"),
    ]

    static func settings(from flags: ParsedFlags) throws -> ServiceSettings {
        var settings = ServiceSettings()
        settings.host = flags.string("host") ?? settings.host
        settings.port = try flags.integer("port", 0...65535, default: 8080)
        settings.frontends = try flags.integer("frontends", 1...64, default: cpus)
        settings.workers = try flags.integer("workers", 1...4096, default: 2 * cpus)
        settings.tasksPerWorker = try flags.integer("tasks-per-worker", 1...1_000_000_000, default: 100)
        if let token = flags.string("token") {
            guard !token.isEmpty else { throw UsageError("--token must not be empty") }
            settings.token = token
        } else if let path = flags.string("token-file") {
            settings.token = try readToken(path)
        }
        if let path = flags.string("state-file") {
            guard !path.isEmpty else { throw UsageError("--state-file must not be empty") }
            settings.stateFilePath = path
        }
        if let text = flags.string("ipc-key") {
            do { settings.ipcKey = try IPCKey(parsing: text) } catch { throw UsageError("--ipc-key \(text): \(error)") }
        }
        settings.maximumBodyBytes = try flags.integer("max-body-bytes", 1024...(256 << 20), default: 1 << 20)
        settings.maximumResultBytes = try flags.integer("max-result-bytes", settings.maximumBodyBytes...(1 << 30),
                                                        default: settings.maximumBodyBytes)
        settings.defaultTimeoutMs = UInt32(try flags.integer("default-timeout-ms", 1...86_400_000, default: 300_000))
        settings.maximumTimeoutMs = UInt32(try flags.integer("max-timeout-ms", 1...86_400_000, default: 3_600_000))
        guard settings.defaultTimeoutMs <= settings.maximumTimeoutMs else {
            throw UsageError("--default-timeout-ms (\(settings.defaultTimeoutMs)) must not exceed --max-timeout-ms (\(settings.maximumTimeoutMs))")
        }
        settings.jobCapacity = try flags.integer("job-capacity", 1...50_000_000, default: 100_000)
        settings.queueCapacity = try flags.integer("queue-capacity", 1...settings.jobCapacity, default: min(10_000, settings.jobCapacity))
        settings.dataBytes = try flags.integer("store-bytes", (1 << 20)...(64 << 30), default: 256 << 20)
        guard settings.dataBytes >= 2 * settings.maximumBodyBytes else {
            throw UsageError("--store-bytes (\(settings.dataBytes)) must hold at least two bodies of --max-body-bytes (\(settings.maximumBodyBytes))")
        }
        settings.retentionSeconds = try flags.integer("retention-seconds", 0...(365 * 86400), default: 3600)
        settings.shutdownGraceSeconds = try flags.integer("shutdown-grace-seconds", 0...3600, default: 10)
        settings.connectionTimeoutSeconds = try flags.integer("connection-timeout-seconds", 1...3600, default: 30)
        settings.maximumConnections = try flags.integer("max-connections", 1...1_000_000, default: 1024)
        settings.perIPConnectionLimit = try flags.integer("max-connections-per-ip", 0...1_000_000, default: 0)
        if let text = flags.string("log-format") {
            guard let format = ForkPoolLogHandler.Format(rawValue: text) else { throw UsageError("--log-format must be text or json, got \"\(text)\"") }
            settings.logFormat = format
        }
        if let text = flags.string("log-level") {
            guard let level = Logger.Level(rawValue: text) else {
                throw UsageError("--log-level must be trace, debug, info, notice, warning, error or critical, got \"\(text)\"")
            }
            settings.logLevel = level
        }
        return settings
    }

    /// `tasks` plus the command tasks of `--config FILE`, read and checked now, before
    /// anything forks: a bad file is a usage error naming the file, the task and the field.
    static func catalog(from flags: ParsedFlags, adding tasks: TaskCatalog, environment: [String: String]) throws -> TaskCatalog {
        guard let path = flags.string("config") else { return tasks }
        guard !path.isEmpty else { throw UsageError("--config must not be empty") }
        var catalog = tasks
        do {
            let commands = try TaskConfig.load(path: path, reservedNames: Set(tasks.all.map(\.name)), environment: environment)
            for command in commands { try catalog.register(command.definition) }
        } catch let error as TaskConfigError {
            throw UsageError(error.description)
        } catch {
            throw UsageError("--config \(path): \(error)")
        }
        return catalog
    }

    private static func readToken(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else {
            throw UsageError("--token-file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { throw UsageError("--token-file \(path) is empty") }
        let token = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: [" ", "\n", "\r", "\t"])
        guard !token.isEmpty else { throw UsageError("--token-file \(path) holds no token") }
        return token
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
