import Foundation
import Testing
@testable import JobService

@Suite("Numbers and timestamps written straight into bytes")
struct RenderingTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_795_838_224_007), "2026-11-28T03:57:04.007Z"),
        (Int64(951_782_400_999), "2000-02-29T00:00:00.999Z"),
        (Int64(253_402_300_799_999), "9999-12-31T23:59:59.999Z"),
    ])
    func timestamps(milliseconds: Int64, expected: String) {
        #expect(iso8601(milliseconds: milliseconds) == expected)
    }

    /// The arithmetic calendar agrees with glibc's gmtime_r, leap years and days before 1970 included.
    @Test func timestampsAgreeWithGmtime() {
        var generator = SystemRandomNumberGenerator()
        let edges: [Int64] = [-1, -1000, -86_400_000, 951_782_400_000 - 1, 4_107_542_400_000, 253_402_300_799_999]
        for milliseconds in edges + (0..<20_000).map({ _ in Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator) }) {
            var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                                  Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
                                  Int(milliseconds - Int64(seconds) * 1000))
            #expect(iso8601(milliseconds: milliseconds) == expected, "\(milliseconds)")
            if iso8601(milliseconds: milliseconds) != expected { break }
        }
    }

    @Test(arguments: [0, 7, -7, 10, 1234567890, Int.max, Int.min, -10])
    func integers(value: Int) {
        var out: [UInt8] = []
        appendInteger(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(value))
    }

    @Test func paddedDigits() {
        var out: [UInt8] = []
        appendDigits(5, width: 3, to: &out)
        appendDigits(12345, width: 2, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "00512345")
    }
}
