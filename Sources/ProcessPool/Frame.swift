/// Frames on a worker's socketpair.
///
/// ```
///  0               4                          4 + length
///  +---------------+--------------------------+
///  | length (u32,  | payload (length bytes)   |
///  |  big-endian)  |                          |
///  +---------------+--------------------------+
/// ```
///
/// A length above the reader's maximum is refused before anything is allocated;
/// end of stream between frames is a clean end, inside a frame it is an error.
public enum FrameError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The header announced more bytes than the reader accepts.
    case oversized(length: UInt32, maximum: Int)
    /// The stream ended after `received` of the `expected` bytes of a frame (header included).
    case truncated(received: Int, expected: Int)

    public var description: String {
        switch self {
        case let .oversized(length, maximum):
            return "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
        case let .truncated(received, expected):
            return "stream ended inside a frame: \(received) of \(expected) bytes"
        }
    }
}

/// The size of a frame's length header.
public let frameHeaderSize = 4

/// Builds the bytes of one frame.
public enum FrameEncoder {
    /// The header for a payload of `length` bytes.
    @inlinable
    public static func header(length: Int) -> (UInt8, UInt8, UInt8, UInt8) {
        let value = UInt32(length)
        return (UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    /// Header and payload in one buffer, ready for a single write.
    public static func frame(_ payload: some Collection<UInt8>) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(frameHeaderSize + payload.count)
        let h = header(length: payload.count)
        bytes.append(h.0); bytes.append(h.1); bytes.append(h.2); bytes.append(h.3)
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// Cuts frames out of a byte stream that arrives in pieces of any size.
public struct FrameDecoder: Sendable {
    /// The largest payload accepted.
    public let maximumLength: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, or nil until more bytes arrive.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        let available = buffer.count - start
        guard available >= frameHeaderSize else { return nil }
        let length = UInt32(buffer[start]) << 24 | UInt32(buffer[start + 1]) << 16
            | UInt32(buffer[start + 2]) << 8 | UInt32(buffer[start + 3])
        guard Int(length) <= maximumLength else {
            throw .oversized(length: length, maximum: maximumLength)
        }
        guard available >= frameHeaderSize + Int(length) else { return nil }
        let payloadStart = start + frameHeaderSize
        let payload = Array(buffer[payloadStart..<payloadStart + Int(length)])
        start = payloadStart + Int(length)
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
        }
        return payload
    }

    /// Bytes received that do not yet form a whole frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Call at end of stream: throws if it ended inside a frame.
    public func finish() throws(FrameError) {
        let available = buffer.count - start
        guard available > 0 else { return }
        var expected = frameHeaderSize
        if available >= frameHeaderSize {
            let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16
                | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            expected += length
        }
        throw .truncated(received: available, expected: expected)
    }

    private mutating func compactIfWorthIt() {
        // Drop consumed bytes once they are the larger part, so the buffer never
        // grows past about twice the largest frame.
        if start > 0 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
