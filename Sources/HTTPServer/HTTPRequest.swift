/// One HTTP request as the handler sees it: plain values, no libmicrohttpd pointers.
public struct HTTPRequest: Sendable {
    /// The method as sent, for example `GET`.
    public let method: String
    /// The URL path as libmicrohttpd gives it (percent-decoded), without the query.
    public let path: String
    /// The decoded query arguments, in order.
    public let query: [(name: String, value: String)]
    /// The request headers in order, names lowercased.
    public let headers: [(name: String, value: String)]
    /// The whole body, at most `HTTPServerConfiguration.maximumBodyBytes` long.
    public let body: [UInt8]
    /// The peer's address, for example `127.0.0.1` or `::1`.
    public var remoteAddress: String { peer.text }
    let peer: PeerAddress

    public init(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { (name: asciiLowercased($0.name), value: $0.value) }
        self.body = body
        self.peer = PeerAddress(text: remoteAddress)
    }

    /// For headers already lowercased.
    init(
        method: String,
        path: String,
        query: [(name: String, value: String)],
        lowercasedHeaders: [(name: String, value: String)],
        body: [UInt8],
        peer: PeerAddress
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = lowercasedHeaders
        self.body = body
        self.peer = peer
    }

    /// The first value of the query argument `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = asciiLowercased(name)
        return headers.first { $0.name == wanted }?.value
    }
}

/// Whether `name` is `Content-Length` in any case, without making a lowercased copy.
func isContentLength(_ name: String) -> Bool {
    let wanted = "content-length".utf8
    return name.utf8.count == wanted.count
        && zip(name.utf8, wanted).allSatisfy { byte, lower in byte == lower || byte &+ 0x20 == lower && lower >= 0x61 }
}

/// Lowercases ASCII letters only: header names are ASCII, and this never depends on a locale.
func asciiLowercased(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return text }
    return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
}
