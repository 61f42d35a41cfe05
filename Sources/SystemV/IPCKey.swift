#if canImport(Glibc)
import Glibc
#endif

/// The key (`key_t`) that names a System V segment or semaphore set across processes.
public struct IPCKey: Hashable, Sendable, CustomStringConvertible {
    /// The `key_t` value.
    public let rawValue: Int32

    /// A key with this `key_t` value.
    public init(_ rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The key `ftok(path, projectID)` derives from an existing file; wraps ftok(3).
    public init(path: String, projectID: UInt8 = UInt8(ascii: "F")) throws(SystemCallError) {
        rawValue = try Syscall.ftok(path, projectID)
    }

    /// A key from an operator's text: decimal, `0x` hexadecimal (as `ipcs` prints it),
    /// or the path of an existing file given to ftok(3) with project id `'F'`.
    public init(parsing text: String) throws {
        if let value = Self.number(text) {
            // IPC_PRIVATE always makes a new, unnamed object: no other process could find it.
            guard value != 0 else {
                throw IPCError.invalidKey(text: text, reason: "0 is IPC_PRIVATE, which names no shared object")
            }
            self.init(value)
            return
        }
        var status = stat()
        if !text.isEmpty, stat(text, &status) == 0 {
            try self.init(path: text)
            return
        }
        throw IPCError.invalidKey(
            text: text,
            reason: text.contains("/")
                ? "no such file to derive a key from with ftok"
                : "expected a decimal number, 0x and up to 8 hexadecimal digits, or the path of an existing file"
        )
    }

    /// The key as `ipcs` shows it: `0x` and eight hexadecimal digits.
    public var description: String { hex32(rawValue) }

    /// Decimal (signed or as an unsigned 32-bit pattern) or `0x` hexadecimal of at most 32 bits.
    private static func number(_ text: String) -> Int32? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.count <= 8, let value = UInt32(digits, radix: 16) else { return nil }
            return Int32(bitPattern: value)
        }
        if let value = Int32(text) { return value }
        if let value = UInt32(text) { return Int32(bitPattern: value) }
        return nil
    }
}
