#if canImport(Glibc)
import Glibc
#endif

/// Writes Unix milliseconds as RFC 3339 UTC with milliseconds, `2026-11-28T01:02:03.456Z`,
/// straight into `out`: every job answer carries up to three, so no String is built.
func appendISO8601(milliseconds: Int64, to out: inout [UInt8]) {
    var seconds = time_t(milliseconds / 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &out)
    out.append(UInt8(ascii: "-"))
    appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &out)
    out.append(UInt8(ascii: "-"))
    appendDigits(Int(parts.tm_mday), width: 2, to: &out)
    out.append(UInt8(ascii: "T"))
    appendDigits(Int(parts.tm_hour), width: 2, to: &out)
    out.append(UInt8(ascii: ":"))
    appendDigits(Int(parts.tm_min), width: 2, to: &out)
    out.append(UInt8(ascii: ":"))
    appendDigits(Int(parts.tm_sec), width: 2, to: &out)
    out.append(UInt8(ascii: "."))
    appendDigits(Int(milliseconds % 1000), width: 3, to: &out)
    out.append(UInt8(ascii: "Z"))
}

/// The same as a String, for the places that need one (logs, status).
func iso8601(milliseconds: Int64) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(24)
    appendISO8601(milliseconds: milliseconds, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// Appends a non-negative number in decimal, zero-padded to `width` digits.
func appendDigits(_ value: Int, width: Int = 1, to out: inout [UInt8]) {
    appendDigits(UInt(max(0, value)), width: width, to: &out)
}

func appendDigits(_ value: UInt, width: Int = 1, to out: inout [UInt8]) {
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var rest = value
    withUnsafeMutableBytes(of: &digits) { buffer in
        repeat {
            buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            count += 1
        } while rest > 0 && count < 20
        while count < width && count < 20 {
            buffer[count] = UInt8(ascii: "0")
            count += 1
        }
        for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
    }
}

/// Appends a signed number in decimal.
func appendInteger(_ value: Int, to out: inout [UInt8]) {
    if value < 0 {
        out.append(UInt8(ascii: "-"))
        appendDigits(value.magnitude, to: &out)
    } else {
        appendDigits(value, to: &out)
    }
}
