#if canImport(Glibc)
import Glibc
#endif
import SystemV

/// The listening socket: made by `HTTPServer` when no inherited one is given, or by a
/// supervisor that shares one socket among several front-end processes.
public enum ListeningSocket {
    /// A TCP socket bound to `host`:`port` with `SO_REUSEADDR`, listening; non-blocking and
    /// close-on-exec (a forked child keeps it; an exec'd program does not).
    /// - Parameters:
    ///   - host: a numeric address (`0.0.0.0`, `::1`) or a name; the first address it resolves to is used.
    ///   - port: 0 picks a free port; `port(of:)` tells which.
    ///   - backlog: listen(2) backlog.
    /// - Throws: `SystemCallError` naming the failed call (bind with `EADDRINUSE`, say), or `HTTPServerError`.
    public static func bind(host: String, port: Int, backlog: Int32 = 511) throws -> Int32 {
        guard (0...65535).contains(port) else { throw HTTPServerError("port \(port) is out of range 0...65535") }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw HTTPServerError("getaddrinfo(\"\(host)\", \(port)) failed: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }

        var lastError: Error = HTTPServerError("getaddrinfo(\"\(host)\", \(port)) returned no address")
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            guard let address = current.pointee.ai_addr else { continue }
            let text = "\(SocketAddress.text(of: address)) port \(port)"
            var fd: Int32 = -1
            do {
                fd = try Syscalls.socket(family: current.pointee.ai_family)
                try Syscalls.enableAddressReuse(fd)
                try Syscalls.bind(fd, address, current.pointee.ai_addrlen, text: text)
                try Syscalls.listen(fd, backlog: backlog)
                return fd
            } catch {
                if fd >= 0 { Syscalls.close(fd) }
                lastError = error
            }
        }
        throw lastError
    }

    /// The port `descriptor` is bound to (getsockname(2)).
    public static func port(of descriptor: Int32) throws -> Int {
        try Syscalls.boundPort(descriptor)
    }
}
