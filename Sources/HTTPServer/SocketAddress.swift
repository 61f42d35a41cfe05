#if canImport(Glibc)
import Glibc
#endif

/// Reads `sockaddr` values: numeric text and port.
enum SocketAddress {
    /// `127.0.0.1`, `::1`; an IPv4-mapped IPv6 address reads as plain IPv4.
    static func text(of address: UnsafePointer<sockaddr>) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let capacity = socklen_t(buffer.count)
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                var raw = v4.pointee.sin_addr
                guard inet_ntop(AF_INET, &raw, &buffer, capacity) != nil else { return "" }
                return text(of: buffer)
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                var raw = v6.pointee.sin6_addr
                let bytes = withUnsafeBytes(of: raw) { Array($0) }
                if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                    return bytes[12...].map { String($0) }.joined(separator: ".")
                }
                guard inet_ntop(AF_INET6, &raw, &buffer, capacity) != nil else { return "" }
                return text(of: buffer)
            }
        default:
            return ""
        }
    }

    /// The NUL-terminated text in `buffer`.
    private static func text(of buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func port(of address: UnsafePointer<sockaddr>) -> Int? {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
        default:
            return nil
        }
    }
}

/// A request's peer, kept as the socket address and turned into text only when asked:
/// most requests never ask, and formatting it for each one cost a poll about 1%.
struct PeerAddress: Sendable {
    private enum Storage: Sendable {
        case v4(sockaddr_in)
        case v6(sockaddr_in6)
        case text(String)
    }

    private let storage: Storage

    init(text: String) { storage = .text(text) }

    /// Copies the address libmicrohttpd holds for the connection (nil or another family: no address).
    init(copying address: UnsafePointer<sockaddr>?) {
        switch address.map({ Int32($0.pointee.sa_family) }) {
        case AF_INET:
            storage = .v4(address!.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee })
        case AF_INET6:
            storage = .v6(address!.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee })
        default:
            storage = .text("")
        }
    }

    var text: String {
        switch storage {
        case .text(let text):
            return text
        case .v4(var address):
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress.text(of: $0) }
            }
        case .v6(var address):
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress.text(of: $0) }
            }
        }
    }
}
