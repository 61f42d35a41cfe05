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
        let utf8 = Array(text.utf8)
        guard utf8.count == 22 else { return nil }
        var bits: [UInt8] = []
        bits.reserveCapacity(16)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for character in utf8 {
            guard let value = Self.decodeTable[Int(character)] else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                bits.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
            }
        }
        // 22 characters carry 132 bits: the last 4 must be zero, or two texts would name one id.
        guard bits.count == 16, accumulator & ((1 << UInt32(bitCount)) - 1) == 0 else { return nil }
        slot = bits[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
        generation = bits[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        secret = bits[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var description: String {
        var bytes: [UInt8] = []
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: slot >> UInt32(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: generation >> UInt32(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: secret >> UInt64(shift))) }
        var text: [UInt8] = []
        var accumulator: UInt32 = 0
        var bitCount = 0
        for byte in bytes {
            accumulator = accumulator << 8 | UInt32(byte)
            bitCount += 8
            while bitCount >= 6 {
                bitCount -= 6
                text.append(Self.alphabet[Int((accumulator >> UInt32(bitCount)) & 63)])
            }
        }
        if bitCount > 0 { text.append(Self.alphabet[Int((accumulator << UInt32(6 - bitCount)) & 63)]) }
        return String(decoding: text, as: UTF8.self)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decodeTable: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()
}
