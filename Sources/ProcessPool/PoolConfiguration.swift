/// Settings of a `ProcessPool`.
public struct PoolConfiguration: Sendable {
    /// Most workers alive at once; change it later with `ProcessPool.maximumWorkers`.
    public var maximumWorkers: Int = 4
    /// Tasks a worker serves before it exits and is replaced; 1 forks a fresh worker for every task.
    public var tasksPerWorker: Int = 1
    /// False runs every task inline in this process, for debugging: no fork, no timeouts.
    public var forking: Bool = true
    /// The largest frame accepted from a worker (and sent to one); larger is an error, never an allocation.
    public var maximumFrameLength: Int = 16 * 1024 * 1024
    /// After SIGTERM, how long a stopped worker has before SIGKILL.
    public var terminationGrace: Duration = .seconds(1)
    /// How long to wait for a dead worker's socket to reach end of stream (a grandchild may hold it).
    public var drainGrace: Duration = .seconds(1)
    /// Tasks waiting to start; `submit` throws `PoolError.queueFull` beyond it.
    public var maximumPending: Int = 100_000
    /// Results not yet taken; no new task starts while this many wait, so none is ever dropped.
    public var maximumBufferedResults: Int = 100_000

    public init() {}
}
