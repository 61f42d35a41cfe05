/// Writes JSON values as compact UTF-8 text.
///
/// Strings escape `"`, `\` and control characters and keep all other characters as raw
/// UTF-8. Integers are exact. Doubles use the shortest spelling that reads back as the
/// same `Double`, always with a fraction or an exponent (`3.0`, `1e-05`), so that parsing
/// the output gives back a `.double`, not an `.integer`; infinities and NaN, which JSON
/// cannot represent, become `null`.
public enum JSONWriter {
    /// Appends `value` as compact JSON to `output`.
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case let .bool(flag):
            output.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case let .integer(number):
            writeInteger(number, into: &output)
        case let .double(number):
            writeDouble(number, into: &output)
        case let .string(string):
            writeString(string, into: &output)
        case let .array(elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case let .object(object):
            output.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// `value` as compact JSON.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        write(value, into: &output)
        return output
    }

    /// Appends `string` as a quoted JSON string: `"` and `\` escaped, control characters as
    /// `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`, everything else as raw UTF-8.
    public static func writeString(_ string: String, into output: inout [UInt8]) {
        var string = string
        string.withUTF8 { writeString(utf8: $0, into: &output) }
    }

    /// Appends the decimal digits of `number`.
    public static func writeInteger(_ number: Int64, into output: inout [UInt8]) {
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        let first = output.count
        repeat {
            output.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        output[first...].reverse()
    }

    /// Appends the shortest round-trip spelling of `number` (which always has a fraction or
    /// an exponent), or `null` for an infinity or NaN.
    public static func writeDouble(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        // Swift's description is the shortest text that reads back as the same Double,
        // e.g. "3.0", "0.1", "1e-05", "1e+300", "-0.0": all valid JSON numbers.
        output.append(contentsOf: number.description.utf8)
    }

    static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for position in 0..<bytes.count {
            let byte = bytes[position]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < position {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            }
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            default:
                output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           lowercaseHexDigits[Int(byte >> 4)], lowercaseHexDigits[Int(byte & 0xF)]])
            }
            runStart = position + 1
        }
        if runStart < bytes.count {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }
}

private let lowercaseHexDigits = Array("0123456789abcdef".utf8)
