#if canImport(Glibc)
import Glibc
#endif
import JSON
import Logging

/// The log handler of every forkpool process: one line per event on standard
/// error, naming the process's role and pid, as readable text or as JSON lines.
///
/// ```
/// text: 2026-11-28T01:02:03.456Z info pool[1234]: job failed job_id=AAAA... code=timeout
/// json: {"time":"2026-11-28T01:02:03.456Z","level":"info","role":"pool","pid":1234,"message":"job failed","job_id":"AAAA..."}
/// ```
/// Each line is a single write(2), so lines of several processes never interleave.
public struct ForkPoolLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    let format: Format

    public init(format: Format, level: Logger.Level) {
        self.format = format
        self.logLevel = level
    }

    /// Installs this handler for the process (before it forks, so every child inherits it).
    public static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { _ in ForkPoolLogHandler(format: format, level: level) }
    }

    /// A logger for a process of `role` ("supervisor", "pool", "frontend 0", ...).
    public static func logger(role: String) -> Logger {
        var logger = Logger(label: "forkpool")
        logger[metadataKey: "role"] = .string(role)
        return logger
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let role = fields.removeValue(forKey: "role").map { "\($0)" } ?? "forkpool"
        let time = iso8601(milliseconds: wallMilliseconds())
        let pid = getpid()
        var line: [UInt8]
        switch format {
        case .text:
            var text = "\(time) \(event.level) \(role)[\(pid)]: \(event.message)"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
            line = Array(text.utf8)
        case .json:
            var members: [(String, JSONValue)] = [
                ("time", .string(time)), ("level", .string(event.level.rawValue)), ("role", .string(role)),
                ("pid", .integer(Int64(pid))), ("message", .string(event.message.description)),
            ]
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { members.append((key, .string("\(value)"))) }
            line = JSONWriter.encode(.object(JSONObject(members)))
        }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    private func wallMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
