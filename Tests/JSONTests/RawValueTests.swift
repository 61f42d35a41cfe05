import Testing
@testable import JSON

@Suite("parseObjectWithRawValues: each value's exact bytes")
struct RawValueTests {
    @Test func rangesSliceBackToTheOriginalBytes() throws {
        let text = "\n { \"task\" : \"echo\" ,\"input\"  :  {\"b\": 1.50, \"a\" : [1 ,2 ]}\n, \"n\":-0.0e0,"
            + "\"s\":\"\\u00e9 \\n\",\"big\" : 100000000000000000000000 ,\"t\":true,\"z\":null }\t"
        let bytes = Array(text.utf8)
        let members = try JSONParser.parseObjectWithRawValues(bytes)
        #expect(members.map(\.key) == ["task", "input", "n", "s", "big", "t", "z"])
        let raws = members.map { String(decoding: bytes[$0.raw], as: UTF8.self) }
        #expect(raws == [#""echo""#, #"{"b": 1.50, "a" : [1 ,2 ]}"#, "-0.0e0", #""\u00e9 \n""#,
                         "100000000000000000000000", "true", "null"])
        for member in members {
            #expect(try JSONParser.parse(Array(bytes[member.raw])) == member.value)
        }
        #expect(members[1].value == ["b": 1.5, "a": [1, 2]])
        #expect(members[3].value == .string("é \n"))
    }

    @Test func emptyObjectHasNoMembers() throws {
        #expect(try JSONParser.parseObjectWithRawValues(Array(" { } ".utf8)).isEmpty)
    }

    @Test func refusesWhatIsNotOneObject() {
        func error(_ text: String, maximumDepth: Int = 128) -> JSONError? {
            do {
                _ = try JSONParser.parseObjectWithRawValues(Array(text.utf8), maximumDepth: maximumDepth)
                return nil
            } catch {
                return error
            }
        }
        #expect(error("[1]") == JSONError(offset: 0, message: "expected a JSON object"))
        #expect(error("  ") == JSONError(offset: 2, message: "unexpected end of input, expected a JSON object"))
        #expect(error(#"{"a":1} x"#) == JSONError(offset: 8, message: "unexpected data after the JSON value"))
        #expect(error(#"{"a":1,"a":2}"#) == JSONError(offset: 7, message: #"duplicate key "a""#))
        #expect(error(#"{"a":1,}"#) == JSONError(offset: 7, message: "trailing comma before '}'"))
        #expect(error(#"{"a" 1}"#) == JSONError(offset: 5, message: "expected ':' after object key"))
        #expect(error(#"{"a":1 "b":2}"#) == JSONError(offset: 7, message: "expected ',' or '}' after object member"))
        #expect(error(#"{"a":[01]}"#) == JSONError(offset: 6, message: "leading zeros are not allowed"))
        // The outer object counts towards the depth.
        #expect(error(#"{"a":1}"#, maximumDepth: 1) == nil)
        #expect(error(#"{"a":[1]}"#, maximumDepth: 1) == JSONError(offset: 5, message: "nesting exceeds the maximum depth of 1"))
        #expect(error("{}", maximumDepth: 0) == JSONError(offset: 0, message: "nesting exceeds the maximum depth of 0"))
        let bomb = Array(#"{"a":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(error(String(decoding: bomb, as: UTF8.self)) == JSONError(offset: 5 + 127, message: "nesting exceeds the maximum depth of 128"))
    }

    @Test func agreesWithParseOnManyMembers() throws {
        let members = (0..<50).map { "\"k\($0)\" : [\($0), {\"x\":\"\($0)\"}]" }
        let bytes = Array(("{" + members.joined(separator: ", ") + "}").utf8)
        let raw = try JSONParser.parseObjectWithRawValues(bytes)
        let whole = try #require(try JSONParser.parse(bytes).objectValue)
        #expect(raw.count == 50)
        for member in raw {
            #expect(whole[member.key] == member.value)
            #expect(bytes[member.raw].first == UInt8(ascii: "[") && bytes[member.raw].last == UInt8(ascii: "]"))
        }
        // Past the linear-scan threshold, duplicates are found through the index.
        let extended = Array(bytes.dropLast()) + Array(#","k3":0}"#.utf8)
        #expect(throws: JSONError(offset: bytes.count, message: #"duplicate key "k3""#)) {
            try JSONParser.parseObjectWithRawValues(extended)
        }
    }
}
