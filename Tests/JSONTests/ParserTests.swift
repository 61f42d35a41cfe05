import Foundation
import Testing
@testable import JSON

/// Parses UTF-8 text, failing the test (with the error) when it is refused.
func parsed(_ text: String, maximumDepth: Int = 128) throws -> JSONValue {
    try JSONParser.parse(Array(text.utf8), maximumDepth: maximumDepth)
}

/// The error the parser gives for `bytes`, or nil if it accepts them.
func parseError(_ bytes: [UInt8], maximumDepth: Int = 128) -> JSONError? {
    do {
        _ = try JSONParser.parse(bytes, maximumDepth: maximumDepth)
        return nil
    } catch {
        return error
    }
}

struct ValidCase: Sendable, CustomTestStringConvertible {
    let text: String
    let expected: JSONValue
    var testDescription: String { text.debugDescription }
}

struct InvalidCase: Sendable, CustomTestStringConvertible {
    let bytes: [UInt8]
    let offset: Int
    let message: String
    init(_ text: String, _ offset: Int, _ message: String) {
        self.init(Array(text.utf8), offset, message)
    }
    init(_ bytes: [UInt8], _ offset: Int, _ message: String) {
        self.bytes = bytes
        self.offset = offset
        self.message = message
    }
    var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}

let validCorpus: [ValidCase] = [
    ValidCase(text: "null", expected: .null),
    ValidCase(text: "true", expected: .bool(true)),
    ValidCase(text: "false", expected: .bool(false)),
    ValidCase(text: "0", expected: .integer(0)),
    ValidCase(text: "-0", expected: .integer(0)),
    ValidCase(text: "123", expected: .integer(123)),
    ValidCase(text: "-123", expected: .integer(-123)),
    ValidCase(text: "9223372036854775807", expected: .integer(.max)),
    ValidCase(text: "-9223372036854775808", expected: .integer(.min)),
    ValidCase(text: "999999999999999999", expected: .integer(999_999_999_999_999_999)),
    ValidCase(text: "9223372036854775808", expected: .double(9_223_372_036_854_775_808.0)),
    ValidCase(text: "-9223372036854775809", expected: .double(-9_223_372_036_854_775_809.0)),
    ValidCase(text: "123456789012345678901234567890", expected: .double(1.2345678901234568e29)),
    ValidCase(text: "1.5", expected: .double(1.5)),
    ValidCase(text: "1.0", expected: .double(1.0)),
    ValidCase(text: "-0.0", expected: .double(-0.0)),
    ValidCase(text: "0.1", expected: .double(0.1)),
    ValidCase(text: "0.30000000000000004", expected: .double(0.30000000000000004)),
    ValidCase(text: "1e2", expected: .double(100)),
    ValidCase(text: "1E+2", expected: .double(100)),
    ValidCase(text: "1e-2", expected: .double(0.01)),
    ValidCase(text: "25e-1", expected: .double(2.5)),
    ValidCase(text: "0e999999999999", expected: .double(0)),
    ValidCase(text: "1e-400", expected: .double(0)),
    ValidCase(text: "1.7976931348623157e308", expected: .double(.greatestFiniteMagnitude)),
    ValidCase(text: "5e-324", expected: .double(.leastNonzeroMagnitude)),
    ValidCase(text: "2.2250738585072014e-308", expected: .double(.leastNormalMagnitude)),
    ValidCase(text: "9007199254740993", expected: .integer(9_007_199_254_740_993)),
    ValidCase(text: "9007199254740993.0", expected: .double(9_007_199_254_740_992)),
    ValidCase(text: " \t\n\r 1 \t\n\r ", expected: .integer(1)),
    ValidCase(text: "\"\"", expected: .string("")),
    ValidCase(text: "\"plain\"", expected: .string("plain")),
    ValidCase(text: #""\"\\\/\b\f\n\r\t""#, expected: .string("\"\\/\u{8}\u{C}\n\r\t")),
    ValidCase(text: #""a\u00e9b\u00E9""#, expected: .string("aébé")),
    ValidCase(text: #""\u0000""#, expected: .string("\u{0}")),
    ValidCase(text: #""\ud83d\ude00""#, expected: .string("😀")),
    ValidCase(text: #""x\uD834\uDD1Ey""#, expected: .string("x𝄞y")),
    ValidCase(text: "\"é😀\u{7F}\"", expected: .string("é😀\u{7F}")),
    ValidCase(text: #""\uFFFF""#, expected: .string("\u{FFFF}")),
    ValidCase(text: "[]", expected: .array([])),
    ValidCase(text: "{}", expected: .object(JSONObject())),
    ValidCase(text: " [ 1 , 2 ] ", expected: [1, 2]),
    ValidCase(text: "[1,[2,[3,[]]]]", expected: [1, [2, [3, []]]]),
    ValidCase(text: #"{"a":{"b":[null,true,"c"]}}"#, expected: ["a": ["b": [nil, true, "c"]]]),
    ValidCase(text: #"{ "a" : 1 , "b" : [ ] , "c" : { } }"#, expected: ["a": 1, "b": [], "c": [:]]),
    ValidCase(text: #"[{"":""}]"#, expected: [["": ""]]),
]

let invalidCorpus: [InvalidCase] = [
    InvalidCase("", 0, "unexpected end of input, expected a value"),
    InvalidCase("   ", 3, "unexpected end of input, expected a value"),
    InvalidCase("[", 1, "unexpected end of input, expected a value"),
    InvalidCase("[1", 2, "unexpected end of input, expected ',' or ']' after array element"),
    InvalidCase("{", 1, "unexpected end of input, expected a string key or '}'"),
    InvalidCase(#"{"a""#, 4, "unexpected end of input, expected ':' after object key"),
    InvalidCase(#"{"a":"#, 5, "unexpected end of input, expected a value"),
    InvalidCase(#"{"a":1"#, 6, "unexpected end of input, expected ',' or '}' after object member"),
    InvalidCase("[1,]", 3, "trailing comma before ']'"),
    InvalidCase("[1, \n]", 5, "trailing comma before ']'"),
    InvalidCase(#"{"a":1,}"#, 7, "trailing comma before '}'"),
    InvalidCase("[1 2]", 3, "expected ',' or ']' after array element"),
    InvalidCase("[1:2]", 2, "expected ',' or ']' after array element"),
    InvalidCase(#"{"a" 1}"#, 5, "expected ':' after object key"),
    InvalidCase(#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after object member"),
    InvalidCase(#"{"a":1]"#, 6, "expected ',' or '}' after object member"),
    InvalidCase("{1:2}", 1, "expected a string key or '}'"),
    InvalidCase("{'a':2}", 1, "expected a string key or '}'"),
    InvalidCase("{,}", 1, "expected a string key or '}'"),
    InvalidCase(#"{"a":1,,}"#, 7, "expected a string key after ','"),
    InvalidCase("[,1]", 1, "expected a value, found ','"),
    InvalidCase("[1,,2]", 3, "expected a value, found ','"),
    InvalidCase("]", 0, "expected a value, found ']'"),
    InvalidCase(#"{"a":1,"a":2}"#, 7, #"duplicate key "a""#),
    InvalidCase(#"{"a":1,"b":{"x":1,"x":[]}}"#, 18, #"duplicate key "x""#),
    InvalidCase(#"{"a":1,"\u0061":2}"#, 7, #"duplicate key "a""#),
    InvalidCase(#"{"q\"":1,"q\"":2}"#, 9, #"duplicate key "q\"""#),
    InvalidCase("[01]", 1, "leading zeros are not allowed"),
    InvalidCase("-01", 1, "leading zeros are not allowed"),
    InvalidCase("00", 0, "leading zeros are not allowed"),
    InvalidCase("-", 1, "unexpected end of input, expected a digit after '-'"),
    InvalidCase("-a", 1, "expected a digit after '-'"),
    InvalidCase("[-]", 2, "expected a digit after '-'"),
    InvalidCase("-Infinity", 1, "expected a digit after '-'"),
    InvalidCase("1.", 2, "unexpected end of input, expected a digit after the decimal point"),
    InvalidCase("1.e5", 2, "expected a digit after the decimal point"),
    InvalidCase("1e", 2, "unexpected end of input, expected a digit in the exponent"),
    InvalidCase("1e+", 3, "unexpected end of input, expected a digit in the exponent"),
    InvalidCase("[1E-x]", 4, "expected a digit in the exponent"),
    InvalidCase("1e400", 0, "number out of range"),
    InvalidCase("-1e400", 0, "number out of range"),
    InvalidCase("[1, 1.8e308]", 4, "number out of range"),
    InvalidCase("1.7976931348623159e308", 0, "number out of range"),
    InvalidCase(String(repeating: "9", count: 400), 0, "number out of range"),
    InvalidCase("NaN", 0, "NaN and Infinity are not allowed"),
    InvalidCase("Infinity", 0, "NaN and Infinity are not allowed"),
    InvalidCase("'a'", 0, "strings must be in double quotes"),
    InvalidCase("// comment\n1", 0, "comments are not allowed"),
    InvalidCase("[1 /* c */]", 3, "expected ',' or ']' after array element"),
    InvalidCase("1 // c", 2, "unexpected data after the JSON value"),
    InvalidCase("+1", 0, "numbers cannot start with '+'"),
    InvalidCase(".5", 0, "numbers must start with a digit"),
    InvalidCase("0x10", 1, "unexpected data after the JSON value"),
    InvalidCase("1e5.5", 3, "unexpected data after the JSON value"),
    InvalidCase("tru", 0, "invalid literal, expected 'true'"),
    InvalidCase("[nul]", 1, "invalid literal, expected 'null'"),
    InvalidCase("fals", 0, "invalid literal, expected 'false'"),
    InvalidCase("True", 0, "expected a value"),
    InvalidCase("truex", 4, "unexpected data after the JSON value"),
    InvalidCase("1 2", 2, "unexpected data after the JSON value"),
    InvalidCase("[1,2]]", 5, "unexpected data after the JSON value"),
    InvalidCase("{} {}", 3, "unexpected data after the JSON value"),
    InvalidCase("\"abc", 4, "unterminated string"),
    InvalidCase("\"ab\\", 4, "unterminated string"),
    InvalidCase("\"a\\n", 4, "unterminated string"),
    InvalidCase("\"a\nb\"", 2, "control character 0x0A in string must be escaped"),
    InvalidCase("\"\t\"", 1, "control character 0x09 in string must be escaped"),
    InvalidCase("\"\\n\u{1F}\"", 3, "control character 0x1F in string must be escaped"),
    InvalidCase(#""\x""#, 1, "invalid escape '\\x' in string"),
    InvalidCase(#""ab\'""#, 3, "invalid escape '\\'' in string"),
    InvalidCase(#""\u12""#, 1, "invalid \\u escape: expected 4 hexadecimal digits"),
    InvalidCase(#""\u12G4""#, 1, "invalid \\u escape: expected 4 hexadecimal digits"),
    InvalidCase(#""\uD800""#, 1, "unpaired surrogate \\uD800 in string"),
    InvalidCase(#""ab\uD83D""#, 3, "unpaired surrogate \\uD83D in string"),
    InvalidCase(#""\uDC00\uD800""#, 1, "unpaired surrogate \\uDC00 in string"),
    InvalidCase(#""\uD800\u0041""#, 1, "unpaired surrogate \\uD800 in string"),
    InvalidCase(#""\uD800\uD800""#, 1, "unpaired surrogate \\uD800 in string"),
    InvalidCase(#""\uD800\n""#, 1, "unpaired surrogate \\uD800 in string"),
    InvalidCase(#""\uD800\uZZZZ""#, 7, "invalid \\u escape: expected 4 hexadecimal digits"),
    InvalidCase([0x22, 0xFF, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0x80, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0xC0, 0x80, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0xE0, 0x80, 0x80, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0x61, 0xED, 0xA0, 0x80, 0x22], 2, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0xE2, 0x82, 0x22], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0xE2, 0x82], 1, "invalid UTF-8 in string"),
    InvalidCase([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], 3, "invalid UTF-8 in string"),
    InvalidCase([0xEF, 0xBB, 0xBF, 0x31], 0, "expected a value"),
    InvalidCase([0x5B, 0x31, 0x2C, 0xC3, 0xA9, 0x5D], 3, "expected a value"),
    InvalidCase([0x00], 0, "expected a value"),
    InvalidCase([0x31, 0x00], 1, "unexpected data after the JSON value"),
]

@Suite("Parser: strict RFC 8259")
struct ParserTests {
    @Test("accepts", arguments: validCorpus)
    func accepts(_ sample: ValidCase) throws {
        let value = try parsed(sample.text)
        #expect(value == sample.expected)
    }

    @Test("refuses, at the right byte", arguments: invalidCorpus)
    func refuses(_ sample: InvalidCase) {
        let error = parseError(sample.bytes)
        #expect(error == JSONError(offset: sample.offset, message: sample.message))
    }

    @Test func errorDescriptionNamesTheByte() {
        let error = JSONError(offset: 17, message: "expected ':' after object key")
        #expect(error.description == "invalid JSON at byte 17: expected ':' after object key")
    }

    @Test func integersAndDoublesAreDistinctCases() throws {
        #expect(try parsed("3") == .integer(3))
        #expect(try parsed("3.0") == .double(3))
        #expect(try parsed("3e0") == .double(3))
        #expect(try parsed("3") != .double(3))
    }

    @Test func negativeZeroKeepsItsSignAsADouble() throws {
        guard case let .double(value) = try parsed("-0.0") else {
            Issue.record("not a double")
            return
        }
        #expect(value == 0 && value.sign == .minus)
        guard case let .double(other) = try parsed("-0e5") else {
            Issue.record("not a double")
            return
        }
        #expect(other.sign == .minus)
    }

    /// The fast path must agree with the correctly rounded conversion on every literal.
    @Test func numbersAgreeWithCorrectlyRoundedConversion() throws {
        var random = SplitMix64(seed: 0x5EED_0001)
        for _ in 0..<20_000 {
            var text = random.next() % 4 == 0 ? "-" : ""
            let integerDigits = Int(random.next() % 12) + 1
            for position in 0..<integerDigits {
                let digit = position == 0 && integerDigits > 1 ? random.next() % 9 + 1 : random.next() % 10
                text += String(digit)
            }
            if random.next() % 2 == 0 {
                text += "."
                for _ in 0..<(Int(random.next() % 20) + 1) { text += String(random.next() % 10) }
            }
            if random.next() % 2 == 0 {
                text += ["e", "E", "e+", "e-", "E-"][Int(random.next() % 5)]
                text += String(random.next() % 40)
            }
            let expected = Double(text)!
            switch try parsed(text) {
            case let .integer(value):
                #expect(Double(value) == expected && !text.contains(where: { ".eE".contains($0) }), "\(text)")
            case let .double(value):
                #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) != \(expected)")
            default:
                Issue.record("\(text) is not a number")
            }
        }
    }

    /// Literals next to the fast path's limits and classic hard cases for correct rounding.
    @Test("hard-to-round numbers", arguments: [
        "3e23", "6e23", "7e23", "11e23", "5e24", "9007199254740992e22", "9007199254740993e1", "9007199254740993.5",
        "1e22", "1e-22", "4.35e-23", "123456789e-22", "2.2250738585072011e-308", "2.2250738585072012e-308",
        "4.9406564584124654e-324", "2.4703282292062328e-324", "1.7976931348623158e308", "0.1e-999", "-12345678901234567890e-10",
        "7.038531e-26", "8.98846567431158e307", "1" + String(repeating: "0", count: 400) + "e-400",
    ])
    func hardToRound(_ text: String) throws {
        guard case let .double(value) = try parsed(text) else {
            Issue.record("\(text) is not a double")
            return
        }
        #expect(value.bitPattern == Double(text)!.bitPattern)
    }

    @Test func objectsKeepMemberOrderAndLookUpByKey() throws {
        let value = try parsed(#"{"z":1,"a":2,"m":[3]}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["z", "a", "m"])
        #expect(object.count == 3)
        #expect(object["a"] == .integer(2))
        #expect(object["m"] == [3])
        #expect(object["missing"] == nil)
        #expect(object.map(\.key) == ["z", "a", "m"])
        #expect(value["z"] == 1)
    }

    @Test func largeObjectsLookUpThroughTheirIndexAndCatchDuplicates() throws {
        let members = (0..<200).map { "\"k\($0)\":\($0)" }
        let value = try parsed("{" + members.joined(separator: ",") + "}")
        let object = try #require(value.objectValue)
        #expect(object.count == 200)
        #expect(object.keys.first == "k0" && object.keys.last == "k199")
        for n in [0, 8, 9, 150, 199] { #expect(object["k\(n)"] == .integer(Int64(n))) }
        #expect(object["k200"] == nil)

        let text = "{" + members.joined(separator: ",") + ",\"k42\":0}"
        let offset = text.utf8.count - "\"k42\":0}".utf8.count
        #expect(parseError(Array(text.utf8)) == JSONError(offset: offset, message: #"duplicate key "k42""#))
    }

    /// JSON names are compared by code points: Swift's canonical equivalence must not merge them.
    @Test func canonicallyEquivalentKeysAreDistinct() throws {
        let value = try parsed("{\"\u{E9}\":1,\"e\u{301}\":2}")
        let object = try #require(value.objectValue)
        #expect(object.count == 2)
        #expect(object["\u{E9}"] == 1)
        #expect(object["e\u{301}"] == 2)
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
    }

    @Test func depthLimitCountsNestedContainers() throws {
        let deepest = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(try parsed(deepest) != .null)
        let tooDeep = "[" + deepest + "]"
        #expect(parseError(Array(tooDeep.utf8)) == JSONError(offset: 128, message: "nesting exceeds the maximum depth of 128"))
        #expect(parseError(Array("[[1]]".utf8), maximumDepth: 1) == JSONError(offset: 1, message: "nesting exceeds the maximum depth of 1"))
        #expect(parseError(Array(#"{"a":{}}"#.utf8), maximumDepth: 1) == JSONError(offset: 5, message: "nesting exceeds the maximum depth of 1"))
        #expect(try parsed("1", maximumDepth: 0) == 1)
        #expect(parseError(Array("[]".utf8), maximumDepth: 0)?.message == "nesting exceeds the maximum depth of 0")
    }

    @Test func depthBombIsRefusedWithoutExhaustingTheStack() {
        let bomb = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(parseError(bomb) == JSONError(offset: 128, message: "nesting exceeds the maximum depth of 128"))
        let objects = Array(String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(parseError(objects) == JSONError(offset: 128 * 5, message: "nesting exceeds the maximum depth of 128"))
        // With the limit out of the way, the explicit stack still copes and the error is the truncation.
        #expect(parseError(bomb, maximumDepth: 1_000_000)
                == JSONError(offset: 100_000, message: "unexpected end of input, expected a value"))
    }

    @Test func parsesAMebibyteArrayOfObjects() throws {
        var text = "["
        var count = 0
        while text.utf8.count < 1 << 20 {
            if count > 0 { text += ",\n  " }
            text += #"{"id":\#(count),"name":"item \#(count) \u00e9\n","tags":["a","b\"c"],"score":\#(count).25,"ok":true,"none":null}"#
            count += 1
        }
        text += "]"
        let elements = try #require(try parsed(text).arrayValue)
        #expect(elements.count == count)
        let last = try #require(elements.last?.objectValue)
        #expect(last["id"] == .integer(Int64(count - 1)))
        #expect(last["name"] == .string("item \(count - 1) é\n"))
        #expect(last["score"] == .double(Double(count - 1) + 0.25))
        #expect(last["tags"] == ["a", "b\"c"])
    }

    @Test func parsesAMebibyteObjectAndAMebibyteString() throws {
        let members = (0..<60_000).map { "\"key-\($0)\":\($0)" }
        let text = "{" + members.joined(separator: ",") + "}"
        #expect(text.utf8.count > 1 << 20)
        let object = try #require(try parsed(text).objectValue)
        #expect(object.count == 60_000)
        #expect(object["key-59999"] == 59_999)

        let payload = String(repeating: "abc\\\"é😀\\n", count: 100_000)
        let string = try #require(try parsed("\"" + payload + "\"").stringValue)
        #expect(string == String(repeating: "abc\"é😀\n", count: 100_000))
    }

    @Test func acceptsEveryEntryPoint() throws {
        let bytes = Array(#" {"a": [1, "x"]} "#.utf8)
        let expected: JSONValue = ["a": [1, "x"]]
        #expect(try JSONParser.parse(bytes) == expected)
        #expect(try bytes.withUnsafeBytes { try JSONParser.parse($0) } == expected)
        #expect(try JSONParser.parse(#" {"a": [1, "x"]} "#) == expected)
        #expect(throws: JSONError(offset: 0, message: "unexpected end of input, expected a value")) {
            try JSONParser.parse(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// Everything we accept, Foundation's parser accepts too (a cross-check on strictness).
    @Test("Foundation agrees", arguments: validCorpus)
    func foundationAgrees(_ sample: ValidCase) throws {
        let data = Data(sample.text.utf8)
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed) }
    }
}
