#if canImport(Glibc)
import Glibc
#endif

/// `forkpool healthcheck [--host ADDR] [--port N]`: GET /healthz over loopback and
/// exit 0 on `200`, 1 otherwise. For container health checks, where no curl is installed.
enum HealthcheckCommand {
    static let specs: [FlagSpec] = [
        FlagSpec(name: "host", valueName: "ADDR", help: "the server's address", defaultText: "127.0.0.1"),
        FlagSpec(name: "port", valueName: "N", help: "the server's port", defaultText: "8080"),
        FlagSpec(name: "timeout-seconds", valueName: "N", help: "give up after this long", defaultText: "2"),
    ]

    static func run(_ flags: ParsedFlags) throws -> Int32 {
        var host = flags.string("host") ?? "127.0.0.1"
        if host == "0.0.0.0" { host = "127.0.0.1" }
        let port = try flags.integer("port", 1...65535, default: 8080)
        let timeout = try flags.integer("timeout-seconds", 1...60, default: 2)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw UsageError("--host \(host) is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return fail("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return fail("connect to \(host):\(port): \(String(cString: strerror(errno)))") }
        let request = "GET /healthz HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
        guard request.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) > 0 else {
            return fail("send: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return fail("no answer from \(host):\(port)") }
        let statusLine = String(decoding: buffer[..<count].prefix { $0 != 13 }, as: UTF8.self)
        guard statusLine.hasPrefix("HTTP/1.1 200") || statusLine.hasPrefix("HTTP/1.0 200") else {
            return fail("unhealthy: \(statusLine)")
        }
        printNow("healthy: \(statusLine)")
        return 0
    }

    private static func fail(_ message: String) -> Int32 {
        logLine("healthcheck", message)
        return 1
    }
}
