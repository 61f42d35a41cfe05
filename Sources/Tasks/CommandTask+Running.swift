#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import ProcessPool
import SystemV

extension CommandTask {
    /// Runs the command for one job and returns the job's result. Called in the worker,
    /// a single-threaded process, so forking here is safe.
    ///
    /// The command runs in a process group of its own, with default signal dispositions,
    /// an empty signal mask and descriptors 0 (the input as JSON, or /dev/null), 1 and 2
    /// (pipes) and 3 (the progress pipe) only. One poll loop feeds its input, reads its
    /// output (at most `max_output_bytes`), its progress and the tail of its standard
    /// error, and watches a signalfd: SIGCHLD when it ends, SIGTERM when the pool stops
    /// the job (timeout or cancel), which kills the command's process group, reaps the
    /// command and ends the worker by that SIGTERM. When the command has ended, its process
    /// group is killed too, so nothing it started in the background outlives it.
    public func run(input: [UInt8], context: TaskContext) throws -> [UInt8] {
        let invocation = try invocation(for: input)
        let environment = environment(from: ProcessEnvironment.current)
        // SIGPIPE is blocked too: a command that does not read its input makes write fail with EPIPE instead.
        let (signalDescriptor, previousMask) = try Syscall.openSignalDescriptor([SIGTERM, SIGCHLD, SIGPIPE])
        var run = CommandRun(task: self, signalDescriptor: signalDescriptor)
        defer {
            run.closeAll()
            // Consumes what is pending (SIGCHLD, SIGPIPE) before the mask goes back; a SIGTERM
            // arriving after this stays pending and ends the worker when the mask is restored.
            _ = Syscall.takeSignals(signalDescriptor)
            Syscall.close(signalDescriptor)
            Syscall.restoreSignalMask(previousMask)
        }
        try run.start(invocation: invocation, environment: environment)
        try run.loop { progress in
            // A pool that is gone cannot take progress; the result frame will fail the same way.
            try? context.reportProgress(percent: progress.percent, message: progress.message)
        }
        if run.outputTooLarge {
            throw TaskResultTooLarge(outputTooLargeMessage)
        }
        guard let termination = run.termination else {
            throw TaskError("command \(executablePath) ended without a status")
        }
        return try result(of: termination, stdout: run.stdout, stderrTail: run.stderr.tail)
    }
}

/// One run of a command: its process, its pipes and what came out of them.
private struct CommandRun {
    let task: CommandTask
    let signalDescriptor: Int32
    var pid: pid_t = 0
    var stdinDescriptor: Int32 = -1
    var stdinBytes: [UInt8] = []
    var stdinOffset = 0
    var stdoutDescriptor: Int32 = -1
    var stderrDescriptor: Int32 = -1
    var progressDescriptor: Int32 = -1
    var stdout: [UInt8] = []
    var stderr = CommandTask.StderrCollector()
    var progress = CommandTask.ProgressReader()
    var outputTooLarge = false
    var termination: CommandTask.Termination?
    /// After the command ended: how long its pipes may still take to reach end of stream
    /// (a descendant that left the process group may hold them open).
    var drainDeadline: UInt64?

    /// How long the pipes may stay open after the command ended.
    static let drainNanoseconds: UInt64 = 2_000_000_000
    static let readChunk = 65536

    init(task: CommandTask, signalDescriptor: Int32) {
        self.task = task
        self.signalDescriptor = signalDescriptor
    }

    // MARK: Start

    mutating func start(invocation: CommandTask.Invocation, environment: [String]) throws {
        var childEnds: [Int32] = []
        defer { for fd in childEnds { Syscall.close(fd) } }
        let stdinSource: Int32
        if let bytes = invocation.standardInput {
            let pipe = try Syscall.pipe()
            childEnds.append(pipe.read)
            stdinSource = pipe.read
            stdinDescriptor = pipe.write
            stdinBytes = bytes
        } else {
            stdinSource = try Syscall.openReadOnly("/dev/null")
            childEnds.append(stdinSource)
        }
        let out = try Syscall.pipe()
        childEnds.append(out.write)
        stdoutDescriptor = out.read
        let err = try Syscall.pipe()
        childEnds.append(err.write)
        stderrDescriptor = err.read
        let progressPipe = try Syscall.pipe()
        childEnds.append(progressPipe.write)
        progressDescriptor = progressPipe.read
        for fd in [stdinDescriptor, stdoutDescriptor, stderrDescriptor, progressDescriptor] where fd >= 0 {
            try Syscall.setNonBlocking(fd)
        }
        pid = try CommandSpawner.spawn(
            path: task.executablePath, arguments: invocation.arguments, environment: environment,
            workingDirectory: task.workingDirectory,
            descriptors: [stdinSource, out.write, err.write, progressPipe.write])
    }

    // MARK: The loop

    private enum Stream { case stdout, stderr, progress }

    /// Runs until the command has ended and its pipes are drained.
    mutating func loop(_ report: (Progress) -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: Self.readChunk)
        while true {
            let pipesOpen = [stdoutDescriptor, stderrDescriptor, progressDescriptor].contains { $0 >= 0 }
            if let drainDeadline, !pipesOpen || MonotonicClock.now >= drainDeadline { break }
            var fds = [pollfd(fd: signalDescriptor, events: Int16(POLLIN), revents: 0)]
            var streams: [Stream?] = [nil]
            for (stream, fd) in [(Stream.stdout, stdoutDescriptor), (.stderr, stderrDescriptor), (.progress, progressDescriptor)] where fd >= 0 {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                streams.append(stream)
            }
            if stdinDescriptor >= 0 {
                fds.append(pollfd(fd: stdinDescriptor, events: Int16(POLLOUT), revents: 0))
                streams.append(nil)
            }
            let timeout = drainDeadline.map(MonotonicClock.pollTimeout(until:)) ?? -1
            _ = try Syscall.poll(&fds, timeoutMilliseconds: timeout)
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                if let stream = streams[index] {
                    try pump(stream, buffer: &buffer, report: report)
                } else if entry.fd == signalDescriptor {
                    try handleSignals()
                } else if entry.fd == stdinDescriptor {
                    writeInput()
                }
            }
        }
        // Pipes still open after the drain time: what a stray descendant writes there is not read.
        stderr.finish(report)
        progress.finish(report)
    }

    /// Reads what one pipe has now, a few chunks at most so a flooding pipe cannot starve
    /// the others or the signalfd; closes it at end of stream.
    private mutating func pump(_ stream: Stream, buffer: inout [UInt8], report: (Progress) -> Void) throws {
        for _ in 0..<4 {
            let fd = descriptor(of: stream)
            guard fd >= 0 else { return }
            let count = try buffer.withUnsafeMutableBytes { (bytes) throws(SystemCallError) in try Syscall.read(fd, into: bytes) }
            guard let count else { return }
            if count == 0 {
                close(stream)
                return
            }
            let bytes = buffer[..<count]
            switch stream {
            case .stdout:
                guard stdout.count + count <= task.maximumOutputBytes else {
                    outputTooLarge = true
                    Syscall.signalGroup(pid, SIGKILL)
                    close(.stdout)
                    return
                }
                stdout.append(contentsOf: bytes)
            case .stderr:
                stderr.feed(bytes, report)
            case .progress:
                progress.feed(bytes, report)
            }
            if count < buffer.count { return }
        }
    }

    private func descriptor(of stream: Stream) -> Int32 {
        switch stream {
        case .stdout: return stdoutDescriptor
        case .stderr: return stderrDescriptor
        case .progress: return progressDescriptor
        }
    }

    private mutating func close(_ stream: Stream) {
        switch stream {
        case .stdout: closeDescriptor(&stdoutDescriptor)
        case .stderr: closeDescriptor(&stderrDescriptor)
        case .progress: closeDescriptor(&progressDescriptor)
        }
    }

    private mutating func handleSignals() throws {
        let signals = Syscall.takeSignals(signalDescriptor)
        if signals.contains(SIGTERM) { stopAndDie() }
        if signals.contains(SIGCHLD), termination == nil, let status = try Syscall.reapIfEnded(pid) {
            ended(status)
        }
    }

    private mutating func ended(_ status: Int32) {
        termination = Self.termination(status)
        // Whatever the command left running in its group dies with it.
        Syscall.signalGroup(pid, SIGKILL)
        drainDeadline = MonotonicClock.now + Self.drainNanoseconds
        closeDescriptor(&stdinDescriptor)
    }

    static func termination(_ status: Int32) -> CommandTask.Termination {
        fp_wifsignaled(status) != 0 ? .signaled(signal: fp_wtermsig(status)) : .exited(code: fp_wexitstatus(status))
    }

    /// The pool stops this job (its timeout passed, or it was canceled): kill the command's
    /// group, reap it, and end the worker by the same SIGTERM, so the pool reports the job as
    /// it decided.
    private mutating func stopAndDie() -> Never {
        Syscall.signalGroup(pid, SIGKILL)
        if termination == nil { _ = try? Syscall.reap(pid) }
        closeAll()
        _ = fp_signal_default(SIGTERM)
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGTERM)
        // The SIGTERM was consumed from the signalfd: send it again, then let it through.
        _ = raise(SIGTERM)
        _ = sigprocmask(SIG_UNBLOCK, &mask, nil)
        _exit(128 + SIGTERM)
    }

    private mutating func writeInput() {
        while stdinOffset < stdinBytes.count {
            let fd = stdinDescriptor
            let offset = stdinOffset
            let written: Int?
            do {
                written = try stdinBytes.withUnsafeBytes { (bytes) throws(SystemCallError) in
                    try Syscall.write(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                }
            } catch {
                // EPIPE: the command closed its input without reading all of it; that is its business.
                break
            }
            guard let written else { return }
            stdinOffset += written
        }
        closeDescriptor(&stdinDescriptor)
    }

    private func closeDescriptor(_ fd: inout Int32) {
        if fd >= 0 { Syscall.close(fd) }
        fd = -1
    }

    /// Closes every pipe; a command that still runs (an error got us here) is killed and reaped.
    mutating func closeAll() {
        if pid > 0 && termination == nil {
            Syscall.signalGroup(pid, SIGKILL)
            if let status = try? Syscall.reap(pid) { termination = Self.termination(status) }
        }
        closeDescriptor(&stdinDescriptor)
        closeDescriptor(&stdoutDescriptor)
        closeDescriptor(&stderrDescriptor)
        closeDescriptor(&progressDescriptor)
    }
}
