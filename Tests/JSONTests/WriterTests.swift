import Foundation
import Testing
@testable import JSON

private func written(_ value: JSONValue) -> String {
    String(decoding: JSONWriter.encode(value), as: UTF8.self)
}

@Suite("Writer: compact, escaped, round-trip numbers")
struct WriterTests {
    @Test func escapesQuotesBackslashesAndControlCharacters() {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar($0)! }))
        #expect(written(.string(controls)) == #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#)
        #expect(written(.string("say \"hi\" \\ /")) == #""say \"hi\" \\ /""#)
        #expect(written(.string("é😀\u{7F}\u{2028}")) == "\"é😀\u{7F}\u{2028}\"")
        #expect(JSONWriter.encode(.string("é")) == [0x22, 0xC3, 0xA9, 0x22])
        var output = Array("x".utf8)
        JSONWriter.writeString("a\"b", into: &output)
        #expect(output == Array(#"x"a\"b""#.utf8))
    }

    @Test func writesIntegersExactly() {
        #expect(written(.integer(.min)) == "-9223372036854775808")
        #expect(written(.integer(.max)) == "9223372036854775807")
        #expect(written(.integer(0)) == "0")
        #expect(written(.integer(-7)) == "-7")
        #expect(written(.integer(1_000)) == "1000")
    }

    @Test func writesDoublesShortestAndAlwaysAsDoubles() {
        #expect(written(.double(3)) == "3.0")
        #expect(written(.double(0.1)) == "0.1")
        #expect(written(.double(1e-5)) == "1e-05")
        #expect(written(.double(1e300)) == "1e+300")
        #expect(written(.double(-0.0)) == "-0.0")
        #expect(written(.double(.leastNonzeroMagnitude)) == "5e-324")
        #expect(written(.double(.infinity)) == "null")
        #expect(written(.double(-.infinity)) == "null")
        #expect(written(.double(.nan)) == "null")
    }

    @Test func writesContainersCompactlyInMemberOrder() {
        let value: JSONValue = ["b": [1, 2.5, nil, true, false], "a": ["": "x"], "c": [], "d": [:]]
        #expect(written(value) == #"{"b":[1,2.5,null,true,false],"a":{"":"x"},"c":[],"d":{}}"#)
        #expect(value.description == written(value))
        var output = Array("prefix:".utf8)
        JSONWriter.write([1], into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "prefix:[1]")
    }

    static let samples: [JSONValue] = [
        .null, true, false,
        .integer(.min), .integer(.max), .integer(0), .integer(-1),
        .double(0.1), .double(1e300), .double(.leastNonzeroMagnitude), .double(-0.0), .double(3.0), .double(-2.5e-7),
        .double(.greatestFiniteMagnitude), .double(9_007_199_254_740_994), .double(1e16), .double(123_456.789),
        .string(""), .string("\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1F}"), .string("😀𝄞é\u{10FFFF}"), .string("e\u{301}"),
        [], [:], [[[[]]]], ["a": ["b": ["c": [1, "two", 3.0, nil]]]],
    ]

    @Test("parse(write(v)) == v", arguments: samples)
    func roundTrips(_ value: JSONValue) throws {
        let bytes = JSONWriter.encode(value)
        let back = try JSONParser.parse(bytes)
        #expect(back == value)
        // Same case and, for doubles, the same bits (-0.0 included).
        if case let .double(original) = value {
            guard case let .double(parsed) = back else {
                Issue.record("\(value) came back as \(back)")
                return
            }
            #expect(parsed.bitPattern == original.bitPattern)
        }
        #expect(JSONWriter.encode(back) == bytes)
    }
}
