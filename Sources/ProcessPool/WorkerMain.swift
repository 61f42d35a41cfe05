#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims

/// The life of a worker after fork: run the first task, then take tasks from
/// the socket until its limit, then `_exit` at once.
///
/// `_exit` skips atexit handlers and the parent's buffers, and ends the process
/// before it touches more inherited pages than it must.
struct WorkerMain {
    let channel: FramedChannel
    let registry: TaskRegistry
    let tasksPerWorker: Int
    let resultLimit: Int

    func run(first: WorkerMessage) -> Never {
        var message = first
        var served = 0
        while true {
            guard case let .task(id, name, input) = message else { _exit(3) }
            guard send(execute(id: id, name: name, input: input)) else { _exit(1) }
            served += 1
            if served >= tasksPerWorker { _exit(0) }
            let next: [UInt8]?
            do { next = try channel.receive() } catch { _exit(1) }
            guard let next, let decoded = WorkerMessage(decoding: next) else { _exit(0) }
            message = decoded
        }
    }

    private func execute(id: UInt64, name: String, input: [UInt8]) -> WorkerMessage {
        guard let handler = registry.handler(named: name) else {
            return .failed(id: id, code: .taskError, message: "no task named \(name) in this worker")
        }
        let context = TaskContext(taskID: id) { progress in
            try channel.send(WorkerMessage.progress(id: id, progress).encoded)
        }
        do {
            let result = try handler(input, context)
            guard result.count <= resultLimit else {
                return .failed(id: id, code: .resultTooLarge,
                               message: "result of \(result.count) bytes exceeds the limit of \(resultLimit) bytes")
            }
            return .succeeded(id: id, result: result)
        } catch let error as TaskResultTooLarge {
            return .failed(id: id, code: .resultTooLarge, message: error.message)
        } catch {
            return .failed(id: id, code: .taskError, message: "\(error)")
        }
    }

    private func send(_ message: WorkerMessage) -> Bool {
        do {
            try channel.send(message.encoded)
            return true
        } catch {
            return false
        }
    }

    /// Puts the child's signal state back to defaults and ties its life to the pool's.
    static func resetProcessState(parent: Int32) {
        for signal in [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2] {
            _ = fp_signal_default(signal)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        // A worker must not outlive its pool; if the pool died before prctl took effect, leave now.
        _ = fp_set_parent_death_signal(SIGKILL)
        if getppid() != parent { _exit(1) }
    }
}
