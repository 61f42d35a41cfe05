/// A JSON value, as parsed from a request body or written into a response.
///
/// Integers that fit in 64 bits are kept exactly (`.integer`); every other number is a
/// `.double`. Equality is structural and exact: strings compare byte for byte (not by
/// Swift's canonical equivalence), `.integer(1)` differs from `.double(1.0)`, and objects
/// compare their members regardless of order. Use `canonicalJSON(_:)` to compare values
/// "as JSON", where `1` and `1.0` are the same number.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue: Equatable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return utf8Equal(a, b)
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a == b
        default: return false
        }
    }
}

extension JSONValue {
    /// The JSON type's name: `null`, `boolean`, `integer`, `number`, `string`, `array` or `object`.
    ///
    /// A `.double` is a `number` even when its value is integral.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value of a `.bool`, otherwise nil.
    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    /// The value of an `.integer`, or of a `.double` whose value is an integer that fits
    /// in 64 bits (so `3.0` counts, as JSON Schema says); otherwise nil.
    public var int64Value: Int64? {
        switch self {
        case let .integer(value): return value
        case let .double(value): return exactInt64(value)
        default: return nil
        }
    }

    /// The value of any number (an `.integer` converted to the nearest `Double`), otherwise nil.
    public var doubleValue: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .double(value): return value
        default: return nil
        }
    }

    /// The value of a `.string`, otherwise nil.
    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    /// The elements of an `.array`, otherwise nil.
    public var arrayValue: [JSONValue]? {
        if case let .array(value) = self { return value }
        return nil
    }

    /// The members of an `.object`, otherwise nil.
    public var objectValue: JSONObject? {
        if case let .object(value) = self { return value }
        return nil
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case let .object(object) = self { return object[key] }
        return nil
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Later members replace earlier ones with the same key, as in `JSONObject.init(_:)`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue: CustomStringConvertible {
    /// The value written as compact JSON.
    public var description: String {
        String(decoding: JSONWriter.encode(self), as: UTF8.self)
    }
}

/// The Int64 equal to `value`, if `value` is integral and in range.
@inline(__always)
func exactInt64(_ value: Double) -> Int64? {
    // -2^63 is representable and in range; 2^63 is the first double above Int64.max.
    guard value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else { return nil }
    let truncated = Int64(value)
    return Double(truncated) == value ? truncated : nil
}

/// Whether `value` is finite and has no fractional part.
///
/// Written without `rounded()`, which calls libm's `trunc`/`floor` on baseline x86-64:
/// this module must link without libm.
@inline(__always)
func isIntegral(_ value: Double) -> Bool {
    guard value.isFinite else { return false }
    // From 2^52 on, every double is an integer.
    if value.magnitude >= 0x1p52 { return true }
    return Double(Int64(value)) == value
}
