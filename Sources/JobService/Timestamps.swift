#if canImport(Glibc)
import Glibc
#endif

/// Writes Unix milliseconds as RFC 3339 UTC with milliseconds, `2026-11-28T01:02:03.456Z`,
/// straight into `out`: every job answer carries up to three, so no String is built.
func appendISO8601(milliseconds: Int64, to out: inout [UInt8]) {
    let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = Int(seconds - days * 86_400)
    let (year, month, day) = civilDate(daysSinceEpoch: days)
    appendDigits(year, width: 4, to: &out)
    out.append(UInt8(ascii: "-"))
    appendDigits(month, width: 2, to: &out)
    out.append(UInt8(ascii: "-"))
    appendDigits(day, width: 2, to: &out)
    out.append(UInt8(ascii: "T"))
    appendDigits(secondOfDay / 3600, width: 2, to: &out)
    out.append(UInt8(ascii: ":"))
    appendDigits(secondOfDay / 60 % 60, width: 2, to: &out)
    out.append(UInt8(ascii: ":"))
    appendDigits(secondOfDay % 60, width: 2, to: &out)
    out.append(UInt8(ascii: "."))
    appendDigits(Int(milliseconds - seconds * 1000), width: 3, to: &out)
    out.append(UInt8(ascii: "Z"))
}

/// The proleptic Gregorian date of a day counted from 1970-01-01, by whole 400-year eras
/// (146,097 days each, starting on a March 1st so the leap day ends a year): no libc
/// call and no time zone, which `gmtime_r` spent a poll's time on.
func civilDate(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
    let shifted = daysSinceEpoch + 719_468  // days from 0000-03-01
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097                                              // 0...146096
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)     // 0...365, from March 1st
    let monthFromMarch = (5 * dayOfYear + 2) / 153                                      // 0...11
    let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
    let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
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
    // Filled from the end, then appended in one go: per-byte appends cost a poll 2%.
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &digits) { buffer in
        var start = buffer.count
        var rest = value
        repeat {
            start -= 1
            buffer[start] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        while buffer.count - start < min(width, buffer.count) {
            start -= 1
            buffer[start] = UInt8(ascii: "0")
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
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
