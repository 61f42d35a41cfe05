#if canImport(Glibc)
import Glibc
#endif
import SystemV

extension ProcessPool {
    /// Starts what can start, waits for events until `deadline` (or the next timer), handles them.
    ///
    /// - Parameter watching: other descriptors to wait on; those found readable are returned.
    @discardableResult
    func turn(until deadline: MonotonicClock.Instant?, startingWork: Bool = true, watching: [Int32] = []) throws -> [Int32] {
        if startingWork { dispatch() }
        // Results may have appeared without waiting (synchronous mode, cancel, start failures).
        if startingWork && !results.isEmpty && watching.isEmpty { return [] }

        var fds = [pollfd(fd: childSignalDescriptor, events: Int16(POLLIN), revents: 0)]
        fds.reserveCapacity(workers.count + 1 + watching.count)
        for descriptor in watching {
            fds.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
        }
        for worker in workers.values where !worker.reachedEndOfStream {
            let wantsWrite = worker.outboxOffset < worker.outbox.count
            fds.append(pollfd(fd: worker.descriptor, events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0))
        }
        let wakeAt = [deadline, nextTimer].compactMap { $0 }.min()
        let timeout = startingWork && !results.isEmpty ? 0 : wakeAt.map { MonotonicClock.pollTimeout(until: $0) } ?? -1
        let ready: Int
        do { ready = try Syscall.poll(&fds, timeoutMilliseconds: timeout) } catch { throw PoolError.system(error) }

        var readyWatched: [Int32] = []
        if ready > 0 {
            for (position, entry) in fds.enumerated() where entry.revents != 0 {
                if entry.fd == childSignalDescriptor {
                    drainSignalDescriptor()
                    continue
                }
                if position <= watching.count {
                    readyWatched.append(entry.fd)
                    continue
                }
                guard let pid = workerByDescriptor[entry.fd], let worker = workers[pid] else { continue }
                if entry.revents & Int16(POLLOUT) != 0 { flushOutbox(of: worker) }
                if entry.revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { readFrames(from: worker) }
            }
        }
        try reap()
        fireTimers()
        finishWorkers()
        if startingWork { dispatch() }
        return readyWatched
    }

    /// The earliest instant any worker needs attention.
    private var nextTimer: MonotonicClock.Instant? {
        workers.values.compactMap(\.nextDeadline).min()
    }

    // MARK: Starting tasks

    /// Hands waiting tasks to idle workers, or forks new ones while below the maximum.
    func dispatch() {
        var occupied = workers.values.reduce(0) { $0 + ($1.occupiesSlot ? 1 : 0) }
        while !pending.isEmpty && results.count + runningCount < configuration.maximumBufferedResults {
            if !configuration.forking {
                guard let (id, task) = pending.popFirst() else { return }
                runInline(id: id, task: task)
                continue
            }
            if let worker = takeIdleWorker() {
                guard let (id, task) = pending.popFirst() else { idleWorkers.append(worker.pid); return }
                assign(id: id, task: task, to: worker)
            } else if occupied < maximumWorkers {
                guard let (id, task) = pending.popFirst() else { return }
                startWorker(id: id, task: task)
                occupied += 1
            } else {
                return
            }
        }
    }

    private func takeIdleWorker() -> WorkerProcess? {
        while let pid = idleWorkers.popLast() {
            if let worker = workers[pid], worker.isIdle { return worker }
        }
        return nil
    }

    private func makeAssignment(id: UInt64, task: PoolTask) -> WorkerProcess.Assignment {
        WorkerProcess.Assignment(id: id, name: task.name,
                                 deadline: task.timeout.map { MonotonicClock.deadline(after: $0) },
                                 timeout: task.timeout)
    }

    private func assign(id: UInt64, task: PoolTask, to worker: WorkerProcess) {
        let frame = FrameEncoder.frame(WorkerMessage.task(id: id, name: task.name, input: task.input).encoded)
        if worker.outboxOffset == worker.outbox.count {
            worker.outbox = frame
            worker.outboxOffset = 0
        } else {
            worker.outbox.append(contentsOf: frame)
        }
        worker.assignment = makeAssignment(id: id, task: task)
        runningCount += 1
        flushOutbox(of: worker)
        hooks.taskStarted?(id, worker.pid)
    }

    /// Forks a worker whose first task is `task`: it is in the child's memory already, so no frame carries it.
    private func startWorker(id: UInt64, task: PoolTask) {
        let parentEnd: Int32
        let childEnd: Int32
        do {
            (parentEnd, childEnd) = try Syscall.socketPair()
        } catch {
            deliverStartFailure(id: id, task: task, cause: error)
            return
        }
        let pid: Int32
        do {
            pid = try Syscall.fork()
        } catch {
            Syscall.close(parentEnd)
            Syscall.close(childEnd)
            deliverStartFailure(id: id, task: task, cause: error)
            return
        }
        if pid == 0 {
            becomeWorker(channelDescriptor: childEnd, parentEnd: parentEnd,
                         first: .task(id: id, name: task.name, input: task.input))
        }
        Syscall.close(childEnd)
        do {
            try Syscall.setNonBlocking(parentEnd)
        } catch {
            // A blocking parent end could stall the whole loop; give this worker up.
            Syscall.signal(pid, SIGKILL)
        }
        let worker = WorkerProcess(pid: pid, descriptor: parentEnd, maximumFrameLength: configuration.maximumFrameLength)
        worker.assignment = makeAssignment(id: id, task: task)
        if configuration.tasksPerWorker == 1 { worker.retiring = true }
        if let status = unclaimedExits.removeValue(forKey: pid) { worker.exitStatus = ExitStatus(waitStatus: status) }
        workers[pid] = worker
        workerByDescriptor[parentEnd] = pid
        runningCount += 1
        workersStarted += 1
        hooks.workerCreated?(pid)
        hooks.taskStarted?(id, pid)
    }

    /// In the child after fork: never returns.
    private func becomeWorker(channelDescriptor: Int32, parentEnd: Int32, first: WorkerMessage) -> Never {
        WorkerMain.resetProcessState(parent: poolPID)
        // The child holds copies of the pool's descriptors: siblings' sockets would
        // keep them from ever seeing end of stream, so close every one.
        Syscall.close(parentEnd)
        Syscall.close(childSignalDescriptor)
        for descriptor in workerByDescriptor.keys { Syscall.close(descriptor) }
        hooks.workerStarted?()
        let channel = FramedChannel(descriptor: channelDescriptor, maximumFrameLength: configuration.maximumFrameLength)
        WorkerMain(channel: channel, registry: registry, tasksPerWorker: configuration.tasksPerWorker,
                   resultLimit: configuration.maximumFrameLength - WorkerMessage.fixedPrefixLength)
            .run(first: first)
    }

    private func deliverStartFailure(id: UInt64, task: PoolTask, cause: SystemCallError) {
        deliver(TaskResult(taskID: id, name: task.name,
                           outcome: .failed(TaskFailure(code: .startFailed, message: "could not start a worker: \(cause)")),
                           workerPID: 0, lastProgress: nil, progressCount: 0))
    }

    /// Synchronous mode: the task runs here and now, with no fork and no timeout.
    private func runInline(id: UInt64, task: PoolTask) {
        guard let handler = registry.handler(named: task.name) else { return }
        var last: Progress?
        var count = 0
        let context = TaskContext(taskID: id) { progress in
            last = progress
            count += 1
            self.hooks.progress?(id, progress)
        }
        let outcome: TaskOutcome
        do {
            outcome = .succeeded(try handler(task.input, context))
        } catch {
            outcome = .failed(TaskFailure(code: .taskError, message: "\(error)"))
        }
        deliver(TaskResult(taskID: id, name: task.name, outcome: outcome, workerPID: getpid(),
                           lastProgress: last, progressCount: count))
    }

    // MARK: Talking to workers

    func flushOutbox(of worker: WorkerProcess) {
        while worker.outboxOffset < worker.outbox.count {
            let offset = worker.outboxOffset
            let attempt = worker.outbox.withUnsafeBytes { bytes in
                Result { () throws(SystemCallError) in
                    try Syscall.send(worker.descriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                }
            }
            guard case let .success(written) = attempt else {
                // The worker is gone or going; its exit status will tell the task's fate.
                worker.outbox = []
                worker.outboxOffset = 0
                return
            }
            guard let written else { return }
            worker.outboxOffset += written
        }
        worker.outbox.removeAll(keepingCapacity: worker.outbox.capacity <= 1 << 16)
        worker.outboxOffset = 0
    }

    /// Reads whatever the worker sent, up to end of stream, and handles each whole frame.
    func readFrames(from worker: WorkerProcess) {
        withUnsafeTemporaryAllocation(byteCount: 64 * 1024, alignment: 16) { buffer in
            while !worker.reachedEndOfStream {
                let count: Int?
                do {
                    count = try Syscall.read(worker.descriptor, into: buffer)
                } catch {
                    count = 0  // ECONNRESET and the like: nothing more will come.
                }
                guard let count else { return }
                if count == 0 {
                    reachEndOfStream(worker)
                    return
                }
                worker.decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                while true {
                    let payload: [UInt8]?
                    do throws(FrameError) {
                        payload = try worker.decoder.next()
                    } catch {
                        let code: TaskFailure.Code = if case .oversized = error { .resultTooLarge } else { .protocolError }
                        breakProtocol(worker, code: code, reason: error.description)
                        return
                    }
                    guard let payload else { break }
                    handle(payload, from: worker)
                    if worker.killDeadline != nil && worker.assignment?.verdict != nil { break }
                }
            }
        }
    }

    private func handle(_ payload: [UInt8], from worker: WorkerProcess) {
        guard let message = WorkerMessage(decoding: payload) else {
            breakProtocol(worker, code: .protocolError, reason: "malformed frame of \(payload.count) bytes")
            return
        }
        guard var assignment = worker.assignment else {
            breakProtocol(worker, code: .protocolError, reason: "frame while no task was assigned")
            return
        }
        // Frames after the pool's verdict (timeout, cancel) change nothing.
        if assignment.verdict != nil { return }
        switch message {
        case let .progress(id, progress) where id == assignment.id:
            assignment.lastProgress = progress
            assignment.progressCount += 1
            worker.assignment = assignment
            hooks.progress?(id, progress)
        case let .succeeded(id, result) where id == assignment.id:
            finishAssignment(of: worker, outcome: .succeeded(result))
        case let .failed(id, code, message) where id == assignment.id:
            let failureCode: TaskFailure.Code = code == .resultTooLarge ? .resultTooLarge : .taskError
            finishAssignment(of: worker, outcome: .failed(TaskFailure(code: failureCode, message: message)))
        default:
            breakProtocol(worker, code: .protocolError, reason: "unexpected frame for task \(assignment.id)")
        }
    }

    private func finishAssignment(of worker: WorkerProcess, outcome: TaskOutcome) {
        guard let assignment = worker.assignment else { return }
        worker.assignment = nil
        runningCount -= 1
        worker.tasksServed += 1
        deliver(TaskResult(taskID: assignment.id, name: assignment.name, outcome: outcome, workerPID: worker.pid,
                           lastProgress: assignment.lastProgress, progressCount: assignment.progressCount))
        if worker.tasksServed >= configuration.tasksPerWorker {
            // The worker exits by itself after its last result.
            worker.retiring = true
        } else if busyOrIdleCount() > maximumWorkers || isDraining {
            retire(worker.pid)
        } else {
            idleWorkers.append(worker.pid)
        }
    }

    private func busyOrIdleCount() -> Int {
        workers.values.reduce(0) { $0 + ($1.occupiesSlot ? 1 : 0) }
    }

    private func breakProtocol(_ worker: WorkerProcess, code: TaskFailure.Code, reason: String) {
        let name = worker.assignment.map { "task \($0.id)" } ?? "no task"
        stop(worker, verdict: TaskFailure(code: code, message: "worker \(worker.pid) (\(name)): \(reason)"), signal: SIGKILL)
        // Nothing it sends can be trusted now; stop reading.
        reachEndOfStream(worker)
    }

    private func reachEndOfStream(_ worker: WorkerProcess) {
        guard !worker.reachedEndOfStream else { return }
        worker.reachedEndOfStream = true
        if worker.exitStatus == nil {
            if worker.assignment != nil && worker.assignment?.verdict == nil {
                // It can never deliver a result now.
                stop(worker, verdict: nil, signal: SIGKILL)
            } else if worker.killDeadline == nil {
                worker.killDeadline = MonotonicClock.deadline(after: configuration.terminationGrace)
            }
        }
    }

    // MARK: Stopping workers

    /// Decides the task's end (if `verdict` is given) and signals the worker; SIGTERM escalates to SIGKILL after the grace period.
    func stop(_ worker: WorkerProcess, verdict: TaskFailure?, signal: Int32) {
        if let verdict, worker.assignment != nil, worker.assignment?.verdict == nil {
            worker.assignment?.verdict = verdict
        }
        worker.retiring = true
        guard worker.exitStatus == nil else { return }
        Syscall.signal(worker.pid, signal)
        if signal != SIGKILL {
            worker.killDeadline = MonotonicClock.deadline(after: configuration.terminationGrace)
        } else {
            worker.killDeadline = nil
        }
    }

    /// Asks an idle worker to exit: it reads end of stream where it waits for its next task.
    func retire(_ pid: Int32) {
        guard let worker = workers[pid] else { return }
        worker.retiring = true
        Syscall.shutdownWrite(worker.descriptor)
        worker.killDeadline = MonotonicClock.deadline(after: configuration.terminationGrace)
    }

    func retireSurplusIdleWorkers() {
        var surplus = busyOrIdleCount() - maximumWorkers
        while surplus > 0, let worker = takeIdleWorker() {
            retire(worker.pid)
            surplus -= 1
        }
    }

    private func fireTimers() {
        let now = MonotonicClock.now
        for worker in workers.values {
            if let assignment = worker.assignment, assignment.verdict == nil, let deadline = assignment.deadline, now >= deadline {
                let limit = assignment.timeout.map { "\($0.nanoseconds / 1_000_000) ms" } ?? "its timeout"
                stop(worker, verdict: TaskFailure(code: .timeout, message: "task ran longer than \(limit)"), signal: SIGTERM)
            }
            if let killAt = worker.killDeadline, now >= killAt, worker.exitStatus == nil {
                Syscall.signal(worker.pid, SIGKILL)
                worker.killDeadline = nil
            }
        }
    }

    // MARK: Reaping

    private func drainSignalDescriptor() {
        withUnsafeTemporaryAllocation(byteCount: 128 * 16, alignment: 8) { buffer in
            while let count = try? Syscall.read(childSignalDescriptor, into: buffer), count > 0 {}
        }
    }

    /// Reaps every exited child with waitpid(-1, WNOHANG), whatever SIGCHLD said:
    /// signals coalesce, so one notice may stand for many exits.
    func reap() throws {
        while true {
            let exited: (pid: Int32, status: Int32)?
            do { exited = try Syscall.reapAny() } catch { throw PoolError.system(error) }
            guard let (pid, status) = exited else { return }
            guard let worker = workers[pid] else {
                // Not (yet) ours: keep it for `startWorker`, within bounds.
                if unclaimedExits.count < 1024 { unclaimedExits[pid] = status }
                continue
            }
            worker.exitStatus = ExitStatus(waitStatus: status)
            worker.killDeadline = nil
            // The socket may still hold frames the worker wrote before exiting.
            readFrames(from: worker)
            if !worker.reachedEndOfStream {
                worker.drainDeadline = MonotonicClock.deadline(after: configuration.drainGrace)
            }
        }
    }

    /// Forgets workers that are dead and drained, delivering a result for any task they still held.
    private func finishWorkers() {
        let now = MonotonicClock.now
        for worker in workers.values where worker.isFinished(at: now) {
            if let assignment = worker.assignment {
                let failure = assignment.verdict.map { describe($0, worker: worker) } ?? crashFailure(of: worker)
                worker.assignment = nil
                runningCount -= 1
                deliver(TaskResult(taskID: assignment.id, name: assignment.name, outcome: .failed(failure),
                                   workerPID: worker.pid, lastProgress: assignment.lastProgress,
                                   progressCount: assignment.progressCount))
            }
            workers.removeValue(forKey: worker.pid)
            workerByDescriptor.removeValue(forKey: worker.descriptor)
            Syscall.close(worker.descriptor)
        }
    }

    private func crashFailure(of worker: WorkerProcess) -> TaskFailure {
        switch worker.exitStatus {
        case let .signaled(signal)?:
            return TaskFailure(code: .workerCrashed, message: "worker \(worker.pid) was killed by \(signalName(signal)) (signal \(signal))",
                               signal: signal)
        case let .exited(code)?:
            return TaskFailure(code: .workerCrashed, message: "worker \(worker.pid) exited with code \(code) before sending a result",
                               exitCode: code)
        case nil:
            return TaskFailure(code: .workerCrashed, message: "worker \(worker.pid) closed its socket without a result")
        }
    }

    /// Adds how the stopped worker actually ended to the pool's verdict.
    private func describe(_ verdict: TaskFailure, worker: WorkerProcess) -> TaskFailure {
        guard let status = worker.exitStatus else { return verdict }
        var exitCode: Int32?
        var signal: Int32?
        switch status {
        case let .exited(code): exitCode = code
        case let .signaled(number): signal = number
        }
        return TaskFailure(code: verdict.code, message: "\(verdict.message); worker \(worker.pid) \(status.description)",
                           exitCode: exitCode, signal: signal)
    }
}
