#if canImport(Glibc)
import Glibc
#endif
import SystemV

/// The libc calls of this module, one wrapper each; -1 becomes a `SystemCallError`.
enum Syscalls {
    static func socket(family: Int32) throws(SystemCallError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        return try retryingInterrupts("socket(\(family), SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0)") {
            Glibc.socket(family, type, 0)
        }
    }

    static func enableAddressReuse(_ fd: Int32) throws(SystemCallError) {
        var on: Int32 = 1
        _ = try retryingInterrupts("setsockopt(\(fd), SOL_SOCKET, SO_REUSEADDR, 1)") {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    static func bind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, text: String)
        throws(SystemCallError)
    {
        _ = try retryingInterrupts("bind(\(fd), \(text))", hint: { $0 == EADDRINUSE ? "choose another port" : nil }) {
            Glibc.bind(fd, address, length)
        }
    }

    static func listen(_ fd: Int32, backlog: Int32) throws(SystemCallError) {
        _ = try retryingInterrupts("listen(\(fd), \(backlog))") { Glibc.listen(fd, backlog) }
    }

    /// The port `fd` is bound to.
    static func boundPort(_ fd: Int32) throws(SystemCallError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try retryingInterrupts("getsockname(\(fd))") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress.port(of: $0) } ?? 0
        }
    }

    static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try retryingInterrupts("fcntl(\(fd), F_GETFL)") { fcntl(fd, F_GETFL) }
        if flags & O_NONBLOCK != 0 { return }
        _ = try retryingInterrupts("fcntl(\(fd), F_SETFL, O_NONBLOCK)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Closes `fd`; EINTR is not retried, since on Linux the descriptor is gone either way.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Shuts `fd` down for reading and writing; the descriptor stays open for its owner to close.
    static func shutdown(_ fd: Int32) throws(SystemCallError) {
        _ = try retryingInterrupts("shutdown(\(fd), SHUT_RDWR)") { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Waits for `descriptors`; returns false when interrupted by a signal.
    static func poll(_ descriptors: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemCallError) -> Bool {
        let count = nfds_t(descriptors.count)
        let result = descriptors.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, count, timeoutMilliseconds) }
        if result >= 0 { return true }
        let code = errno
        if code == EINTR { return false }
        throw SystemCallError(call: "poll(\(count) descriptors, \(timeoutMilliseconds) ms)", errno: code)
    }

    /// Writes what the socket takes now without blocking; returns the bytes written.
    static func sendNow(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if result > 0 {
                sent += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return sent
    }
}
