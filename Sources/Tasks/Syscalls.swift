// The libc calls of this module, one wrapper each: -1 becomes a SystemCallError
// naming the call, EINTR is retried where retrying is right.
#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import ProcessPool
import SystemV

enum Syscall {
    /// pipe(2), both ends close-on-exec: (read end, write end).
    static func pipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retryingInterrupts("pipe()", hint: descriptorHint) { Glibc.pipe(&fds) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// open(path, O_RDONLY | O_CLOEXEC).
    static func openReadOnly(_ path: String) throws(SystemCallError) -> Int32 {
        try retryingInterrupts("open(\"\(path)\", O_RDONLY|O_CLOEXEC)", hint: descriptorHint) {
            open(path, O_RDONLY | O_CLOEXEC)
        }
    }

    /// stat(2): the file type bits of `path` (`S_IFREG`, `S_IFDIR`, ...).
    static func fileType(_ path: String) throws(SystemCallError) -> mode_t {
        var info = stat()
        _ = try retryingInterrupts("stat(\"\(path)\")") { stat(path, &info) }
        return info.st_mode & S_IFMT
    }

    /// access(2): whether this process may use `path` as `mode` (`X_OK`, ...) says.
    static func checkAccess(_ path: String, _ mode: Int32) throws(SystemCallError) {
        _ = try retryingInterrupts("access(\"\(path)\")") { access(path, mode) }
    }

    static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try retryingInterrupts("fcntl(\(fd), F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try retryingInterrupts("fcntl(\(fd), F_SETFL, O_NONBLOCK)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// read(2) once; 0 at end of stream, nil when a non-blocking descriptor has nothing now.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int? {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemCallError(call: "read(\(fd), \(buffer.count))", errno: code)
            }
        }
    }

    /// write(2) once; nil when a non-blocking descriptor is full. EPIPE is an error like any other.
    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Int? {
        while true {
            let count = Glibc.write(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemCallError(call: "write(\(fd), \(buffer.count))", errno: code)
            }
        }
    }

    /// poll(2); EINTR is reported as zero ready descriptors so the caller recomputes its deadline.
    static func poll(_ fds: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemCallError) -> Int {
        let count = Glibc.poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if count >= 0 { return Int(count) }
        if errno == EINTR { return 0 }
        throw SystemCallError(call: "poll(\(fds.count) fds, \(timeoutMilliseconds) ms)", errno: errno)
    }

    static func close(_ fd: Int32) {
        // Linux releases the descriptor even when close reports EINTR: never retry.
        _ = Glibc.close(fd)
    }

    static func fork() throws(SystemCallError) -> pid_t {
        try retryingInterrupts("fork()", hint: { $0 == EAGAIN ? "process limit reached (ulimit -u, kernel.pid_max)" : nil }) {
            Glibc.fork()
        }
    }

    /// waitpid(pid, WNOHANG): the wait status once `pid` has ended, nil while it runs.
    static func reapIfEnded(_ pid: pid_t) throws(SystemCallError) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return status }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            throw SystemCallError(call: "waitpid(\(pid), WNOHANG)", errno: errno)
        }
    }

    /// waitpid(pid, 0): blocks until `pid` has ended; its wait status.
    static func reap(_ pid: pid_t) throws(SystemCallError) -> Int32 {
        var status: Int32 = 0
        _ = try retryingInterrupts("waitpid(\(pid), 0)") { waitpid(pid, &status, 0) }
        return status
    }

    /// kill(-group, signal); a group that is already gone is not an error.
    static func signalGroup(_ group: pid_t, _ signal: Int32) {
        _ = Glibc.kill(-group, signal)
    }

    /// Blocks `signals` and opens a non-blocking signalfd for them; returns it and the mask to restore.
    static func openSignalDescriptor(_ signals: [Int32]) throws(SystemCallError) -> (fd: Int32, previousMask: sigset_t) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        var previous = sigset_t()
        let names = signals.map(signalName).joined(separator: ", ")
        _ = try retryingInterrupts("sigprocmask(SIG_BLOCK, {\(names)})") { sigprocmask(SIG_BLOCK, &mask, &previous) }
        let fd = signalfd(-1, &mask, Int32(SFD_NONBLOCK) | Int32(SFD_CLOEXEC))
        guard fd >= 0 else {
            let code = errno
            restoreSignalMask(previous)
            throw SystemCallError(call: "signalfd(-1, {\(names)}, SFD_NONBLOCK|SFD_CLOEXEC)", errno: code, hint: descriptorHint(code))
        }
        return (fd, previous)
    }

    static func restoreSignalMask(_ mask: sigset_t) {
        var mask = mask
        _ = sigprocmask(SIG_SETMASK, &mask, nil)
    }

    /// The signal numbers waiting in a signalfd, consumed; empty when none.
    static func takeSignals(_ fd: Int32) -> [Int32] {
        // struct signalfd_siginfo is 128 bytes; ssi_signo, a uint32, comes first.
        let recordSize = 128
        var signals: [Int32] = []
        withUnsafeTemporaryAllocation(byteCount: recordSize * 8, alignment: 8) { buffer in
            while let count = try? read(fd, into: buffer), count >= recordSize {
                for offset in stride(from: 0, to: count - recordSize + 1, by: recordSize) {
                    signals.append(Int32(bitPattern: buffer.load(fromByteOffset: offset, as: UInt32.self)))
                }
            }
        }
        return signals
    }

    private static func descriptorHint(_ code: Int32) -> String? {
        code == EMFILE || code == ENFILE ? "raise the descriptor limit (ulimit -n)" : nil
    }
}

/// The C library's text for `code` and its symbolic name: "No such file or directory (ENOENT)".
func errnoText(_ code: Int32) -> String {
    let reason = String(cString: strerror(code))
    guard let name = fp_errno_name(code) else { return "\(reason) (errno \(code))" }
    return "\(reason) (\(String(cString: name)))"
}
