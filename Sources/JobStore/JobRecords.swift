/// A job to add to the table.
public struct NewJob: Sendable {
    public var task: String
    /// The input as raw JSON text, stored byte for byte.
    public var input: [UInt8]
    /// SHA-256 of the input's canonical JSON: equal inputs have equal hashes.
    public var inputHash: [UInt8]
    public var priority: Int
    /// Per attempt; 0 means none.
    public var timeoutMs: UInt32
    public var maxAttempts: Int
    /// SHA-256 of the idempotency key, when the client gave one.
    public var idempotencyKeyHash: [UInt8]?

    public init(task: String, input: [UInt8], inputHash: [UInt8], priority: Int = 0, timeoutMs: UInt32 = 0,
                maxAttempts: Int = 1, idempotencyKeyHash: [UInt8]? = nil) {
        self.task = task
        self.input = input
        self.inputHash = inputHash
        self.priority = priority
        self.timeoutMs = timeoutMs
        self.maxAttempts = maxAttempts
        self.idempotencyKeyHash = idempotencyKeyHash
    }
}

/// A copy of one job, taken under the lock.
public struct JobSnapshot: Sendable {
    public let id: JobID
    public let task: String
    public let state: JobState
    public let priority: Int
    public let attempts: Int
    public let maxAttempts: Int
    public let timeoutMs: UInt32
    /// Raw JSON, when succeeded.
    public let result: [UInt8]?
    public let errorCode: JobErrorCode
    /// When failed or canceled.
    public let errorMessage: String?
    public let progress: (percent: Double, message: String)?
    /// While running.
    public let workerPID: Int32?
    /// Unix milliseconds.
    public let createdAt: Int64
    public let startedAt: Int64?
    public let finishedAt: Int64?
    /// Creation order.
    public let sequence: UInt64
}

/// What `submit` did.
public enum SubmitOutcome: Sendable {
    case created(JobSnapshot)
    /// The idempotency key named a job with the same task and input.
    case existing(JobSnapshot)
    /// The idempotency key named a job with another task or input.
    case conflict(JobSnapshot)
    case queueFull(capacity: Int)
    /// No slot or no data room, even after evicting every finished job.
    case tableFull(String)
    case draining
}

/// What `cancel` did.
public enum CancelOutcome: Sendable {
    case canceled(JobSnapshot)
    case alreadyFinished(JobSnapshot)
    case notFound
}

/// A job the pool took from the queue to run.
public struct StartedJob: Sendable {
    public let id: JobID
    public let task: String
    public let input: [UInt8]
    public let timeoutMs: UInt32
    public let attempt: Int
}

/// How a run ended, as the pool reports it.
public enum RunOutcome: Sendable {
    case succeeded([UInt8])
    case failed(JobErrorCode, String)
}

/// What `finish` did with a run's outcome.
public enum FinishDisposition: Equatable, Sendable {
    case finished(JobState)
    /// Failed in a way that may be retried, with attempts left: queued again.
    case requeued
    /// The job was no longer running (canceled, or gone): nothing changed.
    case ignored
}

/// One page of `list`.
public struct JobPage: Sendable {
    public let jobs: [JobSnapshot]
    public let nextCursor: String?
}

/// Counts for /v1/status and `forkpool status`.
public struct TableStatus: Sendable {
    public struct Frontend: Sendable {
        public let index: Int
        public let pid: Int32
        public let requests: UInt64
        public let waiting: UInt32
        public let startedAt: Int64
    }
    public let jobCapacity: Int
    public let queueCapacity: Int
    public let queued: Int
    public let running: Int
    public let succeeded: Int
    public let failed: Int
    public let canceled: Int
    public let segmentBytes: Int
    public let usedBytes: Int
    public let dataBlocksUsed: Int
    public let dataBlocksTotal: Int
    public let blockSize: Int
    public let submittedTotal: UInt64
    public let finishedSucceeded: UInt64
    public let finishedFailed: UInt64
    public let finishedCanceled: UInt64
    public let evictedTotal: UInt64
    public let retriedTotal: UInt64
    public let recoveries: UInt32
    public let supervisorPID: Int32
    public let poolPID: Int32
    public let poolStartedAt: Int64
    public let workersMax: Int
    public let workersBusy: Int
    public let workersIdle: Int
    public let frontendRestarts: UInt32
    public let poolRestarts: UInt32
    public let draining: Bool
    public let retentionMs: Int64
    public let frontends: [Frontend]
    /// Running jobs: id, task, worker pid, started at (for the status views).
    public let runningJobs: [(id: JobID, task: String, workerPID: Int32, startedAt: Int64)]
}
