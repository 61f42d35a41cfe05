/// A JSON Schema of the subset this service supports, compiled for validating task inputs.
///
/// Supported (draft 2020-12 meaning): `type`, `properties`, `required`,
/// `additionalProperties`, `items` (one schema), `minItems`, `maxItems`, `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength` (in Unicode
/// scalars), `enum`, `const`, boolean schemas, and the annotations `title`, `description`,
/// `default`, `examples`, `$schema` and `$comment`, which are ignored. Any other keyword is
/// refused when the schema is created, so a schema never silently checks less than its
/// author meant.
///
/// Numbers compare by value whatever their spelling: `.integer(3)` and `.double(3.0)` are
/// equal for `enum` and `const`, and `3.0` is an `integer` for `type`.
public struct JSONSchema: Sendable {
    /// The schema as given (served back in `GET /v1/tasks`).
    public let source: JSONValue
    private let root: SchemaNode

    /// The keywords a schema may use.
    public static let supportedKeywords: [String] = [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "enum", "const", "title", "description", "default", "examples", "$schema", "$comment",
    ]

    /// Compiles `schema`, refusing unsupported keywords and malformed values with a message
    /// that names the keyword and where it is in the schema.
    public init(_ schema: JSONValue) throws(JSONSchemaError) {
        source = schema
        root = try SchemaNode(compiling: schema, at: "")
    }

    /// Every violation of the schema by `value`, each message starting with the JSON pointer
    /// of the offending value (`(root)` for the value itself), e.g. "/ms: must be an
    /// integer"; empty when `value` is valid.
    public func validate(_ value: JSONValue) -> [String] {
        var messages: [String] = []
        root.validate(value, at: "", into: &messages)
        return messages
    }

    /// Whether `value` satisfies the schema.
    public func isValid(_ value: JSONValue) -> Bool {
        validate(value).isEmpty
    }
}

/// Why a schema cannot be used.
public struct JSONSchemaError: Error, Equatable, CustomStringConvertible, Sendable {
    /// e.g. `keyword "pattern" at /properties/name is not supported; ...`.
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { "invalid schema: \(message)" }
}

// MARK: - Compiled form

/// The JSON types `type` can name.
private struct JSONTypes: OptionSet, Sendable {
    let rawValue: UInt8
    init(rawValue: UInt8) { self.rawValue = rawValue }
    static let null = JSONTypes(rawValue: 1 << 0)
    static let boolean = JSONTypes(rawValue: 1 << 1)
    static let integer = JSONTypes(rawValue: 1 << 2)
    static let number = JSONTypes(rawValue: 1 << 3)
    static let string = JSONTypes(rawValue: 1 << 4)
    static let array = JSONTypes(rawValue: 1 << 5)
    static let object = JSONTypes(rawValue: 1 << 6)

    static let names: [(name: String, type: JSONTypes, phrase: String)] = [
        ("null", .null, "null"), ("boolean", .boolean, "a boolean"), ("integer", .integer, "an integer"),
        ("number", .number, "a number"), ("string", .string, "a string"), ("array", .array, "an array"),
        ("object", .object, "an object"),
    ]

    /// The types `value` belongs to: an integer is also a number, and a double with an
    /// integral value is also an integer.
    init(of value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool: self = .boolean
        case .integer: self = [.integer, .number]
        case let .double(number):
            self = isIntegral(number) ? [.integer, .number] : .number
        case .string: self = .string
        case .array: self = .array
        case .object: self = .object
        }
    }
}

/// A subschema: the compiled schema nodes form a tree through these boxes.
private final class SchemaBox: Sendable {
    let node: SchemaNode
    init(_ node: SchemaNode) { self.node = node }
}

private enum AdditionalProperties: Sendable {
    case allowed
    case forbidden
    case schema(SchemaBox)
}

private struct SchemaNode: Sendable {
    /// The `false` schema.
    var acceptsNothing = false
    var types: JSONTypes?
    /// The phrases of the named types, in the schema's order, for messages.
    var typePhrases: [String] = []
    var properties: [UTF8Key: SchemaBox] = [:]
    var required: [String] = []
    var additionalProperties = AdditionalProperties.allowed
    var items: SchemaBox?
    var minItems: Int?
    var maxItems: Int?
    var minLength: Int?
    var maxLength: Int?
    var minimum: JSONValue?
    var maximum: JSONValue?
    var exclusiveMinimum: JSONValue?
    var exclusiveMaximum: JSONValue?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?

    init(compiling schema: JSONValue, at path: String) throws(JSONSchemaError) {
        switch schema {
        case .bool(true):
            return
        case .bool(false):
            acceptsNothing = true
            return
        case let .object(object):
            for (keyword, value) in object {
                try compile(keyword: keyword, value: value, at: path)
            }
        default:
            throw JSONSchemaError(message: "schema at \(display(path)) must be an object or a boolean, not \(schema.typeName)")
        }
    }

    private mutating func compile(keyword: String, value: JSONValue, at path: String) throws(JSONSchemaError) {
        func malformed(_ requirement: String) -> JSONSchemaError {
            JSONSchemaError(message: "keyword \"\(keyword)\" at \(display(path)) must be \(requirement)")
        }
        let keywordPath = path + "/" + pointerEscape(keyword)

        switch keyword {
        case "type":
            var names: [String]
            switch value {
            case let .string(name): names = [name]
            case let .array(elements):
                names = []
                for element in elements {
                    guard let name = element.stringValue else { throw malformed("a type name or an array of type names") }
                    guard !names.contains(name) else { throw malformed("an array of distinct type names (\"\(name)\" repeats)") }
                    names.append(name)
                }
                guard !names.isEmpty else { throw malformed("a type name or a non-empty array of type names") }
            default: throw malformed("a type name or an array of type names")
            }
            var types: JSONTypes = []
            for name in names {
                guard let known = JSONTypes.names.first(where: { $0.name == name }) else {
                    let list = JSONTypes.names.map(\.name).joined(separator: ", ")
                    throw JSONSchemaError(message: "keyword \"type\" at \(display(path)) names an unknown type \"\(name)\" (known: \(list))")
                }
                types.insert(known.type)
                typePhrases.append(known.phrase)
            }
            self.types = types

        case "properties":
            guard case let .object(members) = value else { throw malformed("an object of schemas") }
            for (name, subschema) in members {
                let node = try SchemaNode(compiling: subschema, at: keywordPath + "/" + pointerEscape(name))
                properties[UTF8Key(name)] = SchemaBox(node)
            }

        case "required":
            guard case let .array(elements) = value else { throw malformed("an array of property names") }
            for element in elements {
                guard let name = element.stringValue else { throw malformed("an array of property names") }
                guard !required.contains(where: { utf8Equal($0, name) }) else {
                    throw malformed("an array of distinct property names (\"\(name)\" repeats)")
                }
                required.append(name)
            }

        case "additionalProperties":
            switch value {
            case .bool(true): additionalProperties = .allowed
            case .bool(false): additionalProperties = .forbidden
            case .object: additionalProperties = .schema(SchemaBox(try SchemaNode(compiling: value, at: keywordPath)))
            default: throw malformed("a boolean or a schema")
            }

        case "items":
            switch value {
            case .bool, .object: items = SchemaBox(try SchemaNode(compiling: value, at: keywordPath))
            case .array: throw malformed("one schema (the array form of older drafts is not supported)")
            default: throw malformed("a schema")
            }

        case "minItems", "maxItems", "minLength", "maxLength":
            guard let count = value.int64Value, count >= 0 else { throw malformed("a non-negative integer") }
            let bound = Int(count)
            switch keyword {
            case "minItems": minItems = bound
            case "maxItems": maxItems = bound
            case "minLength": minLength = bound
            default: maxLength = bound
            }

        case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
            switch value {
            case .integer, .double: break
            case .bool where keyword.hasPrefix("exclusive"):
                throw malformed("a number (the boolean form of draft 4 is not supported)")
            default: throw malformed("a number")
            }
            switch keyword {
            case "minimum": minimum = value
            case "maximum": maximum = value
            case "exclusiveMinimum": exclusiveMinimum = value
            default: exclusiveMaximum = value
            }

        case "enum":
            guard case let .array(elements) = value, !elements.isEmpty else { throw malformed("a non-empty array") }
            enumValues = elements

        case "const":
            constValue = value

        case "title", "description", "$comment", "$schema":
            guard case .string = value else { throw malformed("a string") }

        case "examples":
            guard case .array = value else { throw malformed("an array") }

        case "default":
            break

        default:
            throw JSONSchemaError(message: "keyword \"\(keyword)\" at \(display(path)) is not supported; supported keywords: "
                + JSONSchema.supportedKeywords.joined(separator: ", "))
        }
    }

    func validate(_ value: JSONValue, at path: String, into messages: inout [String]) {
        if acceptsNothing {
            messages.append("\(display(path)): no value is allowed here")
            return
        }
        if let types, types.isDisjoint(with: JSONTypes(of: value)) {
            // The other keywords would only repeat that the value is of the wrong kind.
            messages.append("\(display(path)): must be \(listPhrase(typePhrases))")
            return
        }
        if let constValue, !jsonEqual(value, constValue) {
            messages.append("\(display(path)): must be \(text(constValue))")
        }
        if let enumValues, !enumValues.contains(where: { jsonEqual(value, $0) }) {
            messages.append("\(display(path)): must be one of \(enumValues.map(text).joined(separator: ", "))")
        }

        switch value {
        case .integer, .double:
            if let minimum, compareNumbers(value, minimum) < 0 {
                messages.append("\(display(path)): must be >= \(text(minimum))")
            }
            if let maximum, compareNumbers(value, maximum) > 0 {
                messages.append("\(display(path)): must be <= \(text(maximum))")
            }
            if let exclusiveMinimum, compareNumbers(value, exclusiveMinimum) <= 0 {
                messages.append("\(display(path)): must be > \(text(exclusiveMinimum))")
            }
            if let exclusiveMaximum, compareNumbers(value, exclusiveMaximum) >= 0 {
                messages.append("\(display(path)): must be < \(text(exclusiveMaximum))")
            }

        case let .string(string):
            if minLength != nil || maxLength != nil {
                let length = string.unicodeScalars.count
                if let minLength, length < minLength {
                    messages.append("\(display(path)): must be at least \(counted(minLength, "character")) long")
                }
                if let maxLength, length > maxLength {
                    messages.append("\(display(path)): must be at most \(counted(maxLength, "character")) long")
                }
            }

        case let .array(elements):
            if let minItems, elements.count < minItems {
                messages.append("\(display(path)): must have at least \(counted(minItems, "item"))")
            }
            if let maxItems, elements.count > maxItems {
                messages.append("\(display(path)): must have at most \(counted(maxItems, "item"))")
            }
            if let items {
                for (position, element) in elements.enumerated() {
                    items.node.validate(element, at: path + "/" + String(position), into: &messages)
                }
            }

        case let .object(object):
            for name in required where !object.contains(key: name) {
                messages.append("\(display(path)): missing required property \(text(.string(name)))")
            }
            for (name, member) in object {
                let memberPath = path + "/" + pointerEscape(name)
                if let property = properties[UTF8Key(name)] {
                    property.node.validate(member, at: memberPath, into: &messages)
                    continue
                }
                switch additionalProperties {
                case .allowed: break
                case .forbidden: messages.append("\(display(memberPath)): property \(text(.string(name))) is not allowed")
                case let .schema(box): box.node.validate(member, at: memberPath, into: &messages)
                }
            }

        case .null, .bool:
            break
        }
    }
}

// MARK: - Helpers

/// A JSON pointer for messages: the empty pointer (the whole value) reads "(root)".
private func display(_ path: String) -> String {
    path.isEmpty ? "(root)" : path
}

/// One reference token of a JSON pointer (RFC 6901): "~" -> "~0", "/" -> "~1".
private func pointerEscape(_ token: String) -> String {
    guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
    return token.replacing("~", with: "~0").replacing("/", with: "~1")
}

/// A value as compact JSON, for messages.
private func text(_ value: JSONValue) -> String {
    String(decoding: JSONWriter.encode(value), as: UTF8.self)
}

/// "a string", "a string or null", "a string, an integer or null".
private func listPhrase(_ phrases: [String]) -> String {
    guard phrases.count > 1 else { return phrases.first ?? "" }
    return phrases.dropLast().joined(separator: ", ") + " or " + phrases[phrases.count - 1]
}

/// "1 item", "3 items".
private func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

/// Equality as JSON Schema defines it: numbers by value, strings by code points, arrays
/// element by element, objects member by member regardless of order.
private func jsonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.integer, .integer), (.integer, .double), (.double, .integer), (.double, .double):
        return compareNumbers(a, b) == 0
    case let (.array(x), .array(y)):
        return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
    case let (.object(x), .object(y)):
        return x.count == y.count && x.allSatisfy { member in y[member.key].map { jsonEqual(member.value, $0) } ?? false }
    default:
        return a == b
    }
}

/// The order of two numbers (-1, 0, 1) by exact value, an Int64 against a Double included.
/// Non-numbers compare equal (callers pass numbers only).
private func compareNumbers(_ a: JSONValue, _ b: JSONValue) -> Int {
    switch (a, b) {
    case let (.integer(x), .integer(y)): return x < y ? -1 : (x > y ? 1 : 0)
    case let (.double(x), .double(y)): return x < y ? -1 : (x > y ? 1 : 0)
    case let (.integer(x), .double(y)): return compare(x, y)
    case let (.double(x), .integer(y)): return -compare(y, x)
    default: return 0
    }
}

/// The order of an Int64 and a Double by exact value (converting either to the other's
/// type could round).
private func compare(_ integer: Int64, _ double: Double) -> Int {
    if double >= 9_223_372_036_854_775_808.0 { return -1 }
    if double < -9_223_372_036_854_775_808.0 { return 1 }
    // Below 2^52 in magnitude the double's integral part fits an Int64 exactly; above, the
    // double is itself an integer. Then compare the integral parts, and the fraction decides ties.
    let integralPart = Int64(double)  // truncates toward zero
    if integer < integralPart { return -1 }
    if integer > integralPart { return 1 }
    let fraction = double - Double(integralPart)
    return fraction > 0 ? -1 : (fraction < 0 ? 1 : 0)
}
