import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One response as read off the socket.
struct RawResponse {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A tiny HTTP/1.1 client over a raw TCP socket, so a test controls every byte sent and
/// every wait has a deadline.
final class RawHTTPClient {
    private(set) var fd: Int32
    private var buffer: [UInt8] = []
    private(set) var sawEndOfStream = false

    /// Connects to 127.0.0.1:`port`, from `source` (another loopback address, say) if given.
    init(port: Int, from source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket: \(String(cString: strerror(errno)))") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound != 0 {
                let code = errno
                Glibc.close(fd)
                fd = -1
                throw ClientError("bind to \(source): \(String(cString: strerror(code)))")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            Glibc.close(fd)
            fd = -1
            throw ClientError("connect to port \(port): \(String(cString: strerror(code)))")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ClientError("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// True when bytes (or the end of the stream) arrive within `milliseconds`.
    func isReadable(within milliseconds: Int32) -> Bool {
        if !buffer.isEmpty || sawEndOfStream { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Reads what is there, waiting until `deadline`; false when the deadline passed first.
    private func fill(until deadline: Date) throws -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return false }
        let ready = poll(&entry, 1, Int32(min(remaining * 1000 + 1, 600_000)))
        if ready < 0 { if errno == EINTR { return true }; throw ClientError("poll: \(String(cString: strerror(errno)))") }
        if ready == 0 { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return true }
            if errno == ECONNRESET { sawEndOfStream = true; return true }
            throw ClientError("recv: \(String(cString: strerror(errno)))")
        }
        if count == 0 { sawEndOfStream = true; return true }
        buffer += chunk[0..<count]
        return true
    }

    /// Reads one response (an interim 1xx one too); `expectBody` false for answers to HEAD.
    func readResponse(timeout: Double = 5, expectBody: Bool = true) throws -> RawResponse {
        let deadline = Date().addingTimeInterval(timeout)
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffer.firstRange(of: separator)?.upperBound
            if headEnd != nil { break }
            if sawEndOfStream { throw ClientError("connection closed before a response; got \(String(decoding: buffer, as: UTF8.self).debugDescription)") }
            guard try fill(until: deadline) else { throw ClientError("no response within \(timeout) s") }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError("bad status line in \(head.debugDescription)") }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : "")
        }
        buffer.removeFirst(headEnd!)
        let response = { (body: [UInt8]) in RawResponse(status: status, headers: headers, body: body) }
        if status < 200 || status == 204 || status == 304 || !expectBody { return response([]) }
        if let lengthText = headers.first(where: { $0.name.lowercased() == "content-length" })?.value, let length = Int(lengthText) {
            while buffer.count < length {
                if sawEndOfStream { throw ClientError("connection closed inside a body") }
                guard try fill(until: deadline) else { throw ClientError("body incomplete after \(timeout) s") }
            }
            let body = Array(buffer[..<length])
            buffer.removeFirst(length)
            return response(body)
        }
        while !sawEndOfStream {
            guard try fill(until: deadline) else { throw ClientError("no end of body after \(timeout) s") }
        }
        defer { buffer.removeAll() }
        return response(buffer)
    }

    /// Waits for the server to close the connection; false if it is still open at the deadline.
    /// Bytes that arrive meanwhile are kept for `readResponse`.
    func waitForClose(timeout: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !sawEndOfStream {
            guard try fill(until: deadline) else { return false }
        }
        return true
    }
}

extension RawHTTPClient {
    /// Sends a request with a Content-Length body.
    func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
        keepAlive: Bool = true
    ) throws {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty { text += "Content-Length: \(body.count)\r\n" }
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        try send(Array(text.utf8) + body)
    }
}
