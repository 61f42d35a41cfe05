/// What the server keeps about one request between libmicrohttpd's calls. Referenced
/// (retained) from the connection's `*con_cls`; released in the completed callback.
final class RequestState {
    enum Phase {
        /// Headers seen; the body, if any, is arriving.
        case receiving
        /// Handed to the handler, answer pending on `token`.
        case suspended(token: UInt64, deadline: UInt64)
        /// `MHD_resume_connection` called; the next access call asks `HTTPHandler.resumed`.
        case resuming(token: UInt64, timedOut: Bool)
        /// A response is queued or the connection is being closed: nothing more to do.
        case finished
    }

    /// Unique per server: keys the suspended table and the deadline heap.
    let serial: UInt64
    let method: String
    let path: String
    let query: [(name: String, value: String)]
    let headers: [(name: String, value: String)]
    let peer: PeerAddress
    var body: [UInt8] = []
    var phase: Phase = .receiving
    /// The `struct MHD_Connection *`, kept only while suspended, to resume it.
    var connection: OpaquePointer?

    init(
        serial: UInt64,
        method: String,
        path: String,
        query: [(name: String, value: String)],
        headers: [(name: String, value: String)],
        peer: PeerAddress
    ) {
        self.serial = serial
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.peer = peer
    }

    var request: HTTPRequest {
        HTTPRequest(
            method: method, path: path, query: query, lowercasedHeaders: headers,
            body: body, peer: peer)
    }

    /// The declared `Content-Length`, if it is a plain decimal number.
    var declaredContentLength: UInt64? {
        guard let text = headers.first(where: { $0.name == "content-length" })?.value else { return nil }
        return UInt64(text.trimmingASCIISpaces)
    }
}

extension String {
    fileprivate var trimmingASCIISpaces: Substring {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return slice
    }
}
