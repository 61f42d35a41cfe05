/// The pool's record of one forked worker.
final class WorkerProcess {
    /// A task the worker is running, as the pool sees it.
    struct Assignment {
        let id: UInt64
        let name: String
        /// When the parent stops the worker; nil for no timeout.
        let deadline: MonotonicClock.Instant?
        let timeout: Duration?
        var lastProgress: Progress?
        var progressCount = 0
        /// Set once the pool decided how the task ends (timeout, cancel, protocol error);
        /// the result is delivered when the worker is gone, and later frames are ignored.
        var verdict: TaskFailure?
    }

    let pid: Int32
    /// The parent's end of the socketpair, non-blocking.
    let descriptor: Int32
    var decoder: FrameDecoder
    /// Bytes of task frames not yet written to the worker.
    var outbox: [UInt8] = []
    var outboxOffset = 0

    var assignment: Assignment?
    var tasksServed = 0
    /// The worker will exit by itself: it served its last task, or it was told to stop.
    var retiring = false
    /// Set once reaped.
    var exitStatus: ExitStatus?
    var reachedEndOfStream = false
    /// SIGKILL is sent at this instant (after SIGTERM, or to a worker that closed its socket but lives on).
    var killDeadline: MonotonicClock.Instant?
    /// After reaping, how long we still wait for end of stream before giving up on the socket.
    var drainDeadline: MonotonicClock.Instant?

    init(pid: Int32, descriptor: Int32, maximumFrameLength: Int) {
        self.pid = pid
        self.descriptor = descriptor
        self.decoder = FrameDecoder(maximumLength: maximumFrameLength)
    }

    /// Counts against the maximum: everything but a worker that finished its last task and is exiting.
    var occupiesSlot: Bool { assignment != nil || !retiring }

    var isIdle: Bool { assignment == nil && !retiring && exitStatus == nil && !reachedEndOfStream }

    /// Dead and drained: the pool can forget it.
    func isFinished(at now: MonotonicClock.Instant) -> Bool {
        guard exitStatus != nil else { return false }
        return reachedEndOfStream || (drainDeadline.map { now >= $0 } ?? false)
    }

    /// The earliest instant at which this worker needs attention.
    var nextDeadline: MonotonicClock.Instant? {
        [assignment?.verdict == nil ? assignment?.deadline : nil, killDeadline, drainDeadline]
            .compactMap { $0 }.min()
    }
}
