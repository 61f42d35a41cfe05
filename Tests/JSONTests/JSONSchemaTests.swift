import Testing
@testable import JSON

private func schema(_ text: String) throws -> JSONSchema {
    try JSONSchema(try parsed(text))
}

private func violations(_ schemaText: String, _ valueText: String) throws -> [String] {
    try schema(schemaText).validate(try parsed(valueText))
}

private func refusal(_ schemaText: String) throws -> String? {
    let value = try parsed(schemaText)
    do {
        _ = try JSONSchema(value)
        return nil
    } catch {
        return error.message
    }
}

/// One keyword: a schema, a value that passes, a value that fails and the failure's messages.
struct KeywordCase: Sendable, CustomTestStringConvertible {
    let schema: String
    let passing: String
    let failing: String
    let messages: [String]
    var testDescription: String { schema }
}

@Suite("JSON Schema subset")
struct JSONSchemaTests {
    static let keywordCases: [KeywordCase] = [
        KeywordCase(schema: #"{"type":"integer"}"#, passing: "3", failing: "3.5", messages: ["(root): must be an integer"]),
        KeywordCase(schema: #"{"type":"integer"}"#, passing: "3.0", failing: "\"3\"", messages: ["(root): must be an integer"]),
        KeywordCase(schema: #"{"type":"number"}"#, passing: "3", failing: "null", messages: ["(root): must be a number"]),
        KeywordCase(schema: #"{"type":"number"}"#, passing: "-1.5e3", failing: "[1]", messages: ["(root): must be a number"]),
        KeywordCase(schema: #"{"type":"string"}"#, passing: "\"\"", failing: "1", messages: ["(root): must be a string"]),
        KeywordCase(schema: #"{"type":"boolean"}"#, passing: "false", failing: "0", messages: ["(root): must be a boolean"]),
        KeywordCase(schema: #"{"type":"null"}"#, passing: "null", failing: "false", messages: ["(root): must be null"]),
        KeywordCase(schema: #"{"type":"array"}"#, passing: "[]", failing: "{}", messages: ["(root): must be an array"]),
        KeywordCase(schema: #"{"type":"object"}"#, passing: "{}", failing: "[]", messages: ["(root): must be an object"]),
        KeywordCase(schema: #"{"type":["string","null"]}"#, passing: "null", failing: "1", messages: ["(root): must be a string or null"]),
        KeywordCase(schema: #"{"type":["string","integer","null"]}"#, passing: "7", failing: "true",
                    messages: ["(root): must be a string, an integer or null"]),
        KeywordCase(schema: #"{"properties":{"ms":{"type":"integer"}}}"#, passing: #"{"ms":5,"other":"x"}"#,
                    failing: #"{"ms":"5"}"#, messages: ["/ms: must be an integer"]),
        KeywordCase(schema: #"{"required":["data","rounds"]}"#, passing: #"{"data":"","rounds":1}"#, failing: #"{"rounds":1}"#,
                    messages: [#"(root): missing required property "data""#]),
        KeywordCase(schema: #"{"properties":{"a":{}},"additionalProperties":false}"#, passing: #"{"a":1}"#,
                    failing: #"{"a":1,"b":2,"c/d":3}"#,
                    messages: [#"/b: property "b" is not allowed"#, #"/c~1d: property "c/d" is not allowed"#]),
        KeywordCase(schema: #"{"properties":{"a":{}},"additionalProperties":{"type":"string"}}"#, passing: #"{"a":1,"b":"x"}"#,
                    failing: #"{"a":1,"b":2}"#, messages: ["/b: must be a string"]),
        KeywordCase(schema: #"{"items":{"type":"integer","minimum":0}}"#, passing: "[0,1,2]", failing: "[0,-1,\"x\"]",
                    messages: ["/1: must be >= 0", "/2: must be an integer"]),
        KeywordCase(schema: #"{"items":false}"#, passing: "[]", failing: "[1]", messages: ["/0: no value is allowed here"]),
        KeywordCase(schema: #"{"minItems":2}"#, passing: "[1,2]", failing: "[1]", messages: ["(root): must have at least 2 items"]),
        KeywordCase(schema: #"{"maxItems":1}"#, passing: "[1]", failing: "[1,2]", messages: ["(root): must have at most 1 item"]),
        KeywordCase(schema: #"{"minimum":1.5}"#, passing: "1.5", failing: "1", messages: ["(root): must be >= 1.5"]),
        KeywordCase(schema: #"{"maximum":10}"#, passing: "10.0", failing: "10.000001", messages: ["(root): must be <= 10"]),
        KeywordCase(schema: #"{"exclusiveMinimum":0}"#, passing: "5e-324", failing: "0", messages: ["(root): must be > 0"]),
        KeywordCase(schema: #"{"exclusiveMaximum":100}"#, passing: "99", failing: "100.0", messages: ["(root): must be < 100"]),
        // Exact comparison of an Int64 with a Double: 2^53 + 1 is above the double 2^53.
        KeywordCase(schema: #"{"maximum":9007199254740992.0}"#, passing: "9007199254740992", failing: "9007199254740993",
                    messages: ["(root): must be <= 9007199254740992.0"]),
        KeywordCase(schema: #"{"minimum":-9223372036854775808}"#, passing: "-9223372036854775808", failing: "-1e19",
                    messages: ["(root): must be >= -9223372036854775808"]),
        KeywordCase(schema: #"{"minLength":2}"#, passing: "\"😀😀\"", failing: "\"😀\"", messages: ["(root): must be at least 2 characters long"]),
        KeywordCase(schema: #"{"maxLength":1}"#, passing: "\"é\"", failing: "\"e\\u0301\"", messages: ["(root): must be at most 1 character long"]),
        KeywordCase(schema: #"{"enum":["a",1,null]}"#, passing: "1.0", failing: "\"b\"", messages: [#"(root): must be one of "a", 1, null"#]),
        KeywordCase(schema: #"{"enum":[{"x":[1]}]}"#, passing: #"{"x":[1.0]}"#, failing: #"{"x":[1],"y":1}"#,
                    messages: [#"(root): must be one of {"x":[1]}"#]),
        KeywordCase(schema: #"{"const":{"a":1,"b":[true]}}"#, passing: #"{"b":[true],"a":1e0}"#, failing: #"{"a":1,"b":[false]}"#,
                    messages: [#"(root): must be {"a":1,"b":[true]}"#]),
        KeywordCase(schema: "true", passing: #"{"anything":[1]}"#, failing: "", messages: []),
        KeywordCase(schema: "false", passing: "", failing: "null", messages: ["(root): no value is allowed here"]),
        KeywordCase(schema: #"{"title":"t","description":"d","default":1,"examples":[1],"$schema":"https://json-schema.org/draft/2020-12/schema","$comment":"c"}"#,
                    passing: "\"anything\"", failing: "", messages: []),
    ]

    @Test("each keyword passes and fails", arguments: keywordCases)
    func keyword(_ sample: KeywordCase) throws {
        if !sample.passing.isEmpty {
            #expect(try violations(sample.schema, sample.passing) == [])
        }
        if !sample.failing.isEmpty {
            #expect(try violations(sample.schema, sample.failing) == sample.messages)
        }
    }

    @Test func nestedSchemasReportEveryViolationWithItsPath() throws {
        let task = try schema(#"""
            {"type": "object", "required": ["data"], "additionalProperties": false,
             "properties": {
                "data": {"type": "string", "minLength": 1},
                "rounds": {"type": "integer", "minimum": 1, "maximum": 1000},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "object", "required": ["k"],
                          "properties": {"k": {"enum": ["x", "y"]}, "a~b": {"type": "null"}}}}}}
            """#)
        #expect(task.validate(try parsed(#"{"data":"hi","rounds":3,"tags":[{"k":"x"}]}"#)) == [])
        #expect(task.isValid(try parsed(#"{"data":"hi"}"#)))
        let messages = task.validate(try parsed(#"{"rounds":0.5,"tags":[{"k":"z","a~b":1},{},3],"extra":1}"#))
        #expect(messages == [
            #"(root): missing required property "data""#,
            "/rounds: must be an integer",
            "/tags: must have at most 2 items",
            #"/tags/0/k: must be one of "x", "y""#,
            "/tags/0/a~0b: must be null",
            #"/tags/1: missing required property "k""#,
            "/tags/2: must be an object",
            #"/extra: property "extra" is not allowed"#,
        ])
        #expect(!task.isValid(.null))
        #expect(task.validate(.null) == ["(root): must be an object"])
    }

    @Test func keepsTheSourceAsGiven() throws {
        let source = try parsed(#"{"type":"object","properties":{"ms":{"type":"integer","description":"how long"}}}"#)
        #expect(try JSONSchema(source).source == source)
    }

    @Test("refuses unsupported keywords, naming keyword and path", arguments: [
        (#"{"pattern":"^a"}"#, #"keyword "pattern" at (root) is not supported"#),
        (#"{"properties":{"name":{"type":"string","format":"email"}}}"#, #"keyword "format" at /properties/name is not supported"#),
        (#"{"anyOf":[{}]}"#, #"keyword "anyOf" at (root) is not supported"#),
        (##"{"items":{"$ref":"#/x"}}"##, #"keyword "$ref" at /items is not supported"#),
        (#"{"additionalProperties":{"oneOf":[]}}"#, #"keyword "oneOf" at /additionalProperties is not supported"#),
        (#"{"properties":{"a/b":{"multipleOf":2}}}"#, #"keyword "multipleOf" at /properties/a~1b is not supported"#),
    ])
    func refusesUnsupported(_ sample: (String, String)) throws {
        let message = try #require(try refusal(sample.0))
        #expect(message.hasPrefix(sample.1), "\(message)")
        #expect(message.contains("supported keywords: type, properties"))
    }

    @Test("refuses malformed keywords", arguments: [
        (#"{"type":"int"}"#, #"keyword "type" at (root) names an unknown type "int" (known: null, boolean, integer, number, string, array, object)"#),
        (#"{"type":[]}"#, #"keyword "type" at (root) must be a type name or a non-empty array of type names"#),
        (#"{"type":["string","string"]}"#, #"keyword "type" at (root) must be an array of distinct type names ("string" repeats)"#),
        (#"{"type":3}"#, #"keyword "type" at (root) must be a type name or an array of type names"#),
        (#"{"properties":[]}"#, #"keyword "properties" at (root) must be an object of schemas"#),
        (#"{"properties":{"a":3}}"#, "schema at /properties/a must be an object or a boolean, not integer"),
        (#"{"required":"a"}"#, #"keyword "required" at (root) must be an array of property names"#),
        (#"{"required":["a","a"]}"#, #"keyword "required" at (root) must be an array of distinct property names ("a" repeats)"#),
        (#"{"additionalProperties":"no"}"#, #"keyword "additionalProperties" at (root) must be a boolean or a schema"#),
        (#"{"items":[{}]}"#, #"keyword "items" at (root) must be one schema (the array form of older drafts is not supported)"#),
        (#"{"minItems":-1}"#, #"keyword "minItems" at (root) must be a non-negative integer"#),
        (#"{"maxLength":1.5}"#, #"keyword "maxLength" at (root) must be a non-negative integer"#),
        (#"{"minimum":"1"}"#, #"keyword "minimum" at (root) must be a number"#),
        (#"{"exclusiveMaximum":true}"#, #"keyword "exclusiveMaximum" at (root) must be a number (the boolean form of draft 4 is not supported)"#),
        (#"{"enum":[]}"#, #"keyword "enum" at (root) must be a non-empty array"#),
        (#"{"title":1}"#, #"keyword "title" at (root) must be a string"#),
        (#"{"examples":{}}"#, #"keyword "examples" at (root) must be an array"#),
        (#"[]"#, "schema at (root) must be an object or a boolean, not array"),
    ])
    func refusesMalformed(_ sample: (String, String)) throws {
        #expect(try refusal(sample.0) == sample.1)
    }

    @Test func acceptsIntegralDoublesForCounts() throws {
        #expect(try violations(#"{"maxItems":2.0}"#, "[1,2,3]") == ["(root): must have at most 2 items"])
    }

    @Test func errorDescription() {
        #expect(JSONSchemaError(message: "x").description == "invalid schema: x")
    }
}
