/// A job's public id: 22 URL-safe characters encoding the slot index, the slot's
/// generation and 64 random bits.
///
/// ```
///  | slot index (u32 BE) | generation (u32 BE) | secret (u64 BE) |   -> base64url, no padding
/// ```
/// The index finds the slot in O(1); the generation tells a reused slot from the
/// job that had it before; the secret makes ids unguessable.
public struct JobID: Hashable, Sendable, CustomStringConvertible {
    public let slot: UInt32
    public let generation: UInt32
    public let secret: UInt64

    public init(slot: UInt32, generation: UInt32, secret: UInt64) {
        self.slot = slot
        self.generation = generation
        self.secret = secret
    }

    /// Parses the 22-character text form; nil for anything else.
    public init?(_ text: some StringProtocol) {
        // One generic call to reach the bytes; the decoding itself runs on a plain buffer.
        let parsed = text.utf8.withContiguousStorageIfAvailable { Self.decode($0) } ?? Self.decode(Array(text.utf8))
        guard let id = parsed else { return nil }
        self = id
    }

    private static func decode(_ bytes: some Collection<UInt8>) -> JobID? {
        guard bytes.count == 22 else { return nil }
        // The 128 bits shift in through high:low, six per character; the 22nd character
        // carries the last two bits and four zero bits.
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        for character in bytes {
            guard let value = decodeTable[Int(character)] else { return nil }
            count += 1
            if count < 22 {
                high = high << 6 | low >> 58
                low = low << 6 | UInt64(value)
            } else {
                // Nonzero padding bits would let two texts name one id.
                guard value & 0xF == 0 else { return nil }
                high = high << 2 | low >> 62
                low = low << 2 | UInt64(value >> 4)
            }
        }
        return JobID(slot: UInt32(truncatingIfNeeded: high >> 32), generation: UInt32(truncatingIfNeeded: high), secret: low)
    }

    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(22)
        append(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the 22 characters of the text form (URL-safe: JSON needs no escaping for them).
    public func append(to out: inout [UInt8]) {
        let high = UInt64(slot) << 32 | UInt64(generation)
        // 128 bits and 4 zero bits make 22 six-bit characters, most significant first.
        for index in 0..<22 {
            let shift = 132 - 6 * (index + 1)  // of the character's lowest bit, in the 132-bit number
            let value: UInt64
            if shift >= 68 {
                value = high >> UInt64(shift - 68)
            } else if shift >= 4 {
                let inLow = shift - 4
                value = inLow + 6 > 64 ? (secret >> UInt64(inLow)) | (high << UInt64(64 - inLow)) : secret >> UInt64(inLow)
            } else {
                value = secret << UInt64(4 - shift)
            }
            out.append(Self.alphabet[Int(value & 63)])
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decodeTable: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()
}
