import CMicroHTTPD
import CMicroHTTPDShims

extension HTTPResponse {
    /// The response as bytes on the wire, with `Connection: close`, for the one answer the
    /// server writes itself (a body found too large while it arrives, see `DaemonContext`).
    /// Header lines holding CR or LF are left out; so are framing headers the server sets.
    func wireBytes(extraHeaders: [(name: String, value: String)], includeBody: Bool) -> [UInt8] {
        let code = (100...999).contains(status) ? status : 500
        let reason = fp_mhd_get_reason_phrase_for(UInt32(code)).map { String(cString: $0) } ?? ""
        var head = "HTTP/1.1 \(code) \(reason)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers + extraHeaders {
            let lowered = asciiLowercased(name)
            if lowered == "connection" || lowered == "content-length" || lowered == "transfer-encoding" { continue }
            if (name + value).utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) || name.isEmpty { continue }
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}
