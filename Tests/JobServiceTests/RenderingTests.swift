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
