import Testing
@testable import JSON

private func canonical(_ text: String) throws -> String {
    String(decoding: canonicalJSON(try parsed(text)), as: UTF8.self)
}

@Suite("Canonical JSON: one spelling per value")
struct CanonicalJSONTests {
    @Test func sortsKeysByUTF8BytesAtEveryLevel() throws {
        #expect(try canonical(#"{"b":1,"a":2,"A":3,"é":4,"z":5,"":6}"#) == #"{"":6,"A":3,"a":2,"b":1,"z":5,"é":4}"#)
        #expect(try canonical(#" { "y" : [ {"d":1, "c":2} ], "x" : { "n" : { "b":null, "a":true } } } "#)
                == #"{"x":{"n":{"a":true,"b":null}},"y":[{"c":2,"d":1}]}"#)
        // Code-point order, not UTF-16 order: U+FFFF sorts before U+10000.
        #expect(try canonical("{\"\u{10000}\":1,\"\u{FFFF}\":2}") == "{\"\u{FFFF}\":2,\"\u{10000}\":1}")
    }

    @Test("equal numbers share one spelling", arguments: [
        ("1", "1"), ("1.0", "1"), ("1e0", "1"), ("10e-1", "1"), ("0.1e1", "1"), ("100e-2", "1"),
        ("-0.0", "0"), ("-0", "0"), ("0e5", "0"), ("0.0", "0"),
        ("1.5", "1.5"), ("0.1", "0.1"), ("1e-5", "1e-5"), ("0.00001", "1e-5"), ("1e300", "1e300"),
        ("-2.5E-7", "-2.5e-7"), ("1e20", "1e20"), ("1e18", "1000000000000000000"), ("123456789012345678901234567890", "1.2345678901234568e29"),
        ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
        ("-9223372036854775808.0", "-9223372036854775808"), ("9223372036854775808", "9.223372036854776e18"),
        ("4611686018427387904.0", "4611686018427387904"),
    ])
    func numberSpellings(_ sample: (String, String)) throws {
        #expect(try canonical(sample.0) == sample.1)
    }

    @Test func equalValuesGiveEqualBytes() throws {
        let a = try parsed(#"{"n": 1, "list": [1.0, {"y": 2e0, "x": "é"}], "f": 0.5}"#)
        let b = try parsed(#"{"f":5e-1,"list":[1,{"x":"\u00e9","y":2}],"n":1.0}"#)
        #expect(a != b)  // different cases and order...
        #expect(canonicalJSON(a) == canonicalJSON(b))  // ...same JSON value
        let c = try parsed(#"{"f":0.5,"list":[1,{"x":"e\u0301","y":2}],"n":1}"#)
        #expect(canonicalJSON(a) != canonicalJSON(c))
        #expect(canonicalJSON(.integer(9_007_199_254_740_993)) != canonicalJSON(.double(9_007_199_254_740_992)))
    }

    @Test func stringsAndNonFiniteNumbers() {
        #expect(String(decoding: canonicalJSON(["k\n": "\"\u{1}"]), as: UTF8.self) == #"{"k\n":"\"\u0001"}"#)
        #expect(canonicalJSON(.double(.nan)) == Array("null".utf8))
        #expect(canonicalJSON(.double(-.infinity)) == Array("null".utf8))
    }

    @Test func canonicalFormIsValidJSONThatParsesToAnEqualValue() throws {
        var generator = RandomJSON(seed: 0xC0FFEE)
        for _ in 0..<500 {
            let value = generator.value()
            let bytes = canonicalJSON(value)
            let back = try JSONParser.parse(bytes)
            #expect(canonicalJSON(back) == bytes, "\(value)")
        }
    }
}
