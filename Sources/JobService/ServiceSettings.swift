import Logging
import SystemV

/// Every setting of a running server, shared by the supervisor, the pool and the front-ends.
/// Defaults are the documented ones (README, `forkpool serve --help`).
public struct ServiceSettings: Sendable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var frontends = 1
    public var workers = 2
    /// Tasks a worker runs before it is replaced; 1 forks a fresh worker per task.
    public var tasksPerWorker = 100
    /// Bearer token required on every route but /healthz, /readyz and /metrics; nil: none.
    public var token: String?
    public var configPath: String?
    /// Keep the job table in this file instead of a System V segment, so it survives a restart.
    public var stateFilePath: String?
    /// nil: derived from the port (`defaultKey(port:)`).
    public var ipcKey: IPCKey?
    public var maximumBodyBytes = 1 << 20
    /// At least the body size, so an echo of any accepted input fits.
    public var maximumResultBytes = 1 << 20
    public var defaultTimeoutMs: UInt32 = 300_000
    public var maximumTimeoutMs: UInt32 = 3_600_000
    public var queueCapacity = 10_000
    public var jobCapacity = 100_000
    public var dataBytes = 256 << 20
    public var retentionSeconds = 3600
    public var shutdownGraceSeconds = 10
    public var connectionTimeoutSeconds = 30
    public var maximumConnections = 1024
    public var perIPConnectionLimit = 0
    public var logFormat: ForkPoolLogHandler.Format = .text
    /// Job events are `debug` (accepted, started, succeeded) and `info` (failed, canceled).
    public var logLevel: Logger.Level = .info
    /// Longest `wait` a client may ask for.
    public var maximumWaitSeconds = 60

    public init() {}

    /// The key a server on `port` uses when no `--ipc-key` is given: "F" and "P" in the
    /// top bytes, the port below, so `forkpool status --port N` finds it.
    public static func defaultKey(port: Int) -> IPCKey {
        IPCKey(Int32(bitPattern: 0x4650_0000 | UInt32(port & 0xFFFF)))
    }
}
