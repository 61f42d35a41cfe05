@testable import JSON

/// A small seeded generator (SplitMix64), so a failing case can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSON values that exercise the edges: extreme integers, doubles of every
/// magnitude, strings with escapes, control characters and astral characters.
struct RandomJSON {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func value(depth: Int = 0) -> JSONValue {
        let kinds = depth >= 4 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .integer(integer())
        case 3: return .double(double())
        case 4: return .string(string())
        case 5:
            return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in value(depth: depth + 1) })
        default:
            var members: [(String, JSONValue)] = []
            var keys = Set<[UInt8]>()
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                let key = string()
                if keys.insert(Array(key.utf8)).inserted { members.append((key, value(depth: depth + 1))) }
            }
            return .object(JSONObject(members))
        }
    }

    mutating func integer() -> Int64 {
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let edges: [Int64] = [.min, .max, 0, -1, 1, 1 << 53, -(1 << 53) - 1]
            return edges[Int.random(in: 0..<edges.count, using: &random)]
        case 1: return Int64.random(in: -1000...1000, using: &random)
        default: return Int64(bitPattern: random.next())
        }
    }

    mutating func double() -> Double {
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let edges: [Double] = [0.0, -0.0, 0.1, 1e300, -1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3.0, 1e16, 1e-5]
            return edges[Int.random(in: 0..<edges.count, using: &random)]
        case 1:
            return Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 100
        default:
            // Any finite bit pattern: every exponent, subnormals included.
            while true {
                let candidate = Double(bitPattern: random.next())
                if candidate.isFinite { return candidate }
            }
        }
    }

    mutating func string() -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...10, using: &random) {
            let value: UInt32
            switch Int.random(in: 0..<6, using: &random) {
            case 0: value = UInt32.random(in: 0..<0x20, using: &random)
            case 1:
                let edges: [UInt32] = [0x22, 0x5C, 0x2F, 0x7F, 0xE9, 0x301, 0x2028, 0xFEFF, 0xFFFF]
                value = edges[Int.random(in: 0..<edges.count, using: &random)]
            case 2: value = UInt32.random(in: 0x80..<0xD800, using: &random)
            case 3: value = UInt32.random(in: 0x10000...0x10FFFF, using: &random)
            default: value = UInt32.random(in: 0x20..<0x7F, using: &random)
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }
}
