import Testing
@testable import JSON

@Suite("JSONValue and JSONObject")
struct JSONValueTests {
    @Test func objectInitKeepsOrderAndLetsLaterDuplicatesWin() {
        let object = JSONObject([("b", 1), ("a", 2), ("b", 3)])
        #expect(object.keys == ["b", "a"])
        #expect(object["b"] == 3)
        #expect(object.count == 2)
    }

    @Test func objectEqualityIgnoresOrderButNotValues() {
        #expect(JSONObject([("a", 1), ("b", 2)]) == JSONObject([("b", 2), ("a", 1)]))
        #expect(JSONObject([("a", 1), ("b", 2)]) != JSONObject([("a", 1), ("b", 3)]))
        #expect(JSONObject([("a", 1)]) != JSONObject([("a", 1), ("b", 2)]))
        #expect(JSONObject([("a", 1), ("c", 2)]) != JSONObject([("a", 1), ("b", 2)]))
    }

    @Test func objectMutationKeepsTheIndexCoherent() {
        var object = JSONObject()
        for n in 0..<20 { object["k\(n)"] = .integer(Int64(n)) }
        #expect(object.count == 20 && object["k19"] == 19)
        object["k3"] = "three"
        #expect(object["k3"] == "three" && object.keys[3] == "k3")
        object["k0"] = nil
        #expect(object.count == 19 && object["k0"] == nil && object["k1"] == 1 && object["k19"] == 19)
        #expect(object.keys.first == "k1")
        for n in 1..<15 { object["k\(n)"] = nil }
        #expect(object.keys == ["k15", "k16", "k17", "k18", "k19"])
        #expect(object["k17"] == 17)
        #expect(object.contains(key: "k15") && !object.contains(key: "k14"))
    }

    @Test func accessors() {
        let value: JSONValue = ["n": 3, "d": 3.0, "h": 3.5, "s": "x", "b": true, "a": [nil], "o": [:], "z": nil]
        #expect(value["n"]?.int64Value == 3)
        #expect(value["d"]?.int64Value == 3)
        #expect(value["h"]?.int64Value == nil)
        #expect(value["h"]?.doubleValue == 3.5)
        #expect(value["n"]?.doubleValue == 3)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?.arrayValue == [nil])
        #expect(value["o"]?.objectValue?.isEmpty == true)
        #expect(value["z"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(JSONValue.integer(1)["x"] == nil)
        #expect(JSONValue.double(1e19).int64Value == nil)
        #expect(JSONValue.double(-9_223_372_036_854_775_808).int64Value == .min)
        #expect(["null", "boolean", "integer", "number", "string", "array", "object"]
                == [JSONValue.null, true, 1, 1.0, "", [], [:]].map(\.typeName))
    }

    @Test func stringsCompareByBytes() {
        #expect(JSONValue.string("é") == .string("\u{E9}"))
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
        let composed = JSONObject([("\u{E9}", 1)])
        #expect(composed["e\u{301}"] == nil)
    }
}
