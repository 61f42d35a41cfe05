/// Code the pool calls at points of a worker's and a task's life.
public struct PoolHooks {
    /// Runs in every new worker right after the fork, before its first task:
    /// the place to reopen what must not be shared with the parent (database connections, random seeds).
    public var workerStarted: (() -> Void)?
    /// Runs in the pool after it forked a worker, with the worker's pid.
    public var workerCreated: ((Int32) -> Void)?
    /// Runs in the pool for every progress frame, with the task id.
    public var progress: ((UInt64, Progress) -> Void)?
    /// Runs in the pool when a task is handed to a worker, with the task id and the worker's pid.
    public var taskStarted: ((UInt64, Int32) -> Void)?

    public init(workerStarted: (() -> Void)? = nil, workerCreated: ((Int32) -> Void)? = nil,
                progress: ((UInt64, Progress) -> Void)? = nil, taskStarted: ((UInt64, Int32) -> Void)? = nil) {
        self.workerStarted = workerStarted
        self.workerCreated = workerCreated
        self.progress = progress
        self.taskStarted = taskStarted
    }
}
