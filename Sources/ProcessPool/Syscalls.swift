// The libc calls of this module, one wrapper each: -1 becomes a SystemCallError
// naming the call, EINTR is retried where retrying is right.
#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import SystemV

enum Syscall {
    /// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0): descriptors for the parent and the worker.
    static func socketPair() throws(SystemCallError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        _ = try retryingInterrupts("socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)",
                                   hint: { $0 == EMFILE || $0 == ENFILE ? "raise the descriptor limit (ulimit -n)" : nil }) {
            socketpair(AF_UNIX, type, 0, &fds)
        }
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try retryingInterrupts("fcntl(\(fd), F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try retryingInterrupts("fcntl(\(fd), F_SETFL, O_NONBLOCK)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// read(2) once; returns 0 at end of stream, nil when a non-blocking descriptor has nothing.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int? {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemCallError(call: "read(\(fd), \(buffer.count))", errno: code)
            }
        }
    }

    /// send(2) once with MSG_NOSIGNAL, so a vanished peer is EPIPE rather than a SIGPIPE;
    /// nil when a non-blocking descriptor is full.
    static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Int? {
        while true {
            let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemCallError(call: "send(\(fd), \(buffer.count))", errno: code)
            }
        }
    }

    /// poll(2); EINTR is reported as zero ready descriptors so the caller recomputes its deadline.
    static func poll(_ fds: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemCallError) -> Int {
        let n = Glibc.poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if n >= 0 { return Int(n) }
        if errno == EINTR { return 0 }
        throw SystemCallError(call: "poll(\(fds.count) fds, \(timeoutMilliseconds) ms)", errno: errno)
    }

    /// shutdown(fd, SHUT_WR): the peer reads end of stream while we can still read what it sends.
    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    static func close(_ fd: Int32) {
        // Linux releases the descriptor even when close reports EINTR: never retry.
        _ = Glibc.close(fd)
    }

    /// `_Fork`, not `fork`, while the process never started a thread (the pool refuses to
    /// start in a multi-threaded one): no other thread can hold a lock, so glibc's locking of
    /// every malloc arena and the atfork handlers around a fork buy nothing; skipping them
    /// saves a worker 4 of its page faults (one task at a time: 4.2k to 4.9k forks/s).
    static func fork() throws(SystemCallError) -> pid_t {
        try retryingInterrupts("fork()", hint: { $0 == EAGAIN ? "process limit reached (ulimit -u, kernel.pid_max)" : nil }) {
            fp_fork_worker()
        }
    }

    /// waitpid(-1, WNOHANG): the next exited child and its status, or nil when none is ready or none is left.
    static func reapAny() throws(SystemCallError) -> (pid: pid_t, status: Int32)? {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { return (pid, status) }
            if pid == 0 { return nil }
            switch errno {
            case EINTR: continue
            case ECHILD: return nil
            case let code: throw SystemCallError(call: "waitpid(-1, WNOHANG)", errno: code)
            }
        }
    }

    /// kill(2); a process that is already gone is not an error.
    static func signal(_ pid: pid_t, _ signal: Int32) {
        _ = Glibc.kill(pid, signal)
    }

    /// Blocks SIGCHLD and opens a non-blocking signalfd for it; returns the descriptor and the mask to restore.
    static func openChildSignalDescriptor() throws(SystemCallError) -> (Int32, sigset_t) {
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGCHLD)
        var previous = sigset_t()
        _ = try retryingInterrupts("sigprocmask(SIG_BLOCK, {SIGCHLD})") { sigprocmask(SIG_BLOCK, &mask, &previous) }
        let flags = Int32(SFD_NONBLOCK) | Int32(SFD_CLOEXEC)
        let fd = try retryingInterrupts("signalfd(-1, {SIGCHLD}, SFD_NONBLOCK|SFD_CLOEXEC)") { signalfd(-1, &mask, flags) }
        return (fd, previous)
    }

    static func restoreSignalMask(_ mask: sigset_t) {
        var mask = mask
        _ = sigprocmask(SIG_SETMASK, &mask, nil)
    }

    /// The number of threads of this process, from /proc/self/task.
    static func threadCount() -> Int {
        guard let dir = opendir("/proc/self/task") else { return 1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
        }
        return count
    }
}
