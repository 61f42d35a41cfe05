/// Parses JSON text as RFC 8259 defines it, and nothing more lenient.
///
/// Refused: trailing commas, comments, `NaN`/`Infinity`, leading zeros, single quotes,
/// unescaped control characters in strings, invalid UTF-8, lone surrogate escapes,
/// duplicate keys in one object, numbers too large for a `Double`, and nesting deeper
/// than `maximumDepth`. Every error carries the byte offset where it was found.
///
/// The parser works on the bytes with an index and an explicit stack (no recursion), so
/// no input can exhaust the thread's stack, whatever `maximumDepth` is.
public enum JSONParser {
    /// Parses one JSON text: whitespace is allowed around it, nothing else after it.
    /// - Parameters:
    ///   - bytes: the UTF-8 text.
    ///   - maximumDepth: the most arrays and objects that may be nested in one another.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int = 128) throws(JSONError) -> JSONValue {
        let result = bytes.withMemoryRebound(to: UInt8.self) { buffer in
            Result { () throws(JSONError) -> JSONValue in
                var parser = Parser(buffer, maximumDepth: maximumDepth)
                return try parser.parseDocument()
            }
        }
        return try result.get()
    }

    /// Parses one JSON text: whitespace is allowed around it, nothing else after it.
    /// - Parameters:
    ///   - bytes: the UTF-8 text.
    ///   - maximumDepth: the most arrays and objects that may be nested in one another.
    public static func parse(_ bytes: [UInt8], maximumDepth: Int = 128) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            var parser = Parser(buffer, maximumDepth: maximumDepth)
            return try parser.parseDocument()
        }
    }

    /// Parses the UTF-8 bytes of `text` as one JSON text.
    public static func parse(_ text: String, maximumDepth: Int = 128) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONError) -> JSONValue in
                var parser = Parser(buffer, maximumDepth: maximumDepth)
                return try parser.parseDocument()
            }
        }
        return try result.get()
    }

    /// Parses a text that must be an object, and returns its members with, for each, the
    /// exact byte range of its value in `bytes` (from the value's first byte to just after
    /// its last, without the whitespace around it), so a value can be kept byte for byte.
    /// - Parameters:
    ///   - bytes: the UTF-8 text.
    ///   - maximumDepth: the most arrays and objects that may be nested in one another,
    ///     the outer object included.
    public static func parseObjectWithRawValues(
        _ bytes: [UInt8], maximumDepth: Int = 128
    ) throws(JSONError) -> [(key: String, value: JSONValue, raw: Range<Int>)] {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) in
            var parser = Parser(buffer, maximumDepth: maximumDepth)
            return try parser.parseObjectWithRawValues()
        }
    }
}

private enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

/// 10^0 ... 10^22: the powers of ten a `Double` holds exactly.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// An array or object whose members are still being read.
private struct Frame {
    let isObject: Bool
    /// Where this container's elements (or member values) start on the value stack.
    let valueStart: Int
    /// Where this object's keys start on the key stack.
    let keyStart: Int
    /// Key -> member position, built once an object has more members than a linear
    /// duplicate check should scan.
    var index: [UTF8Key: Int]?
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    let end: Int
    let maximumDepth: Int
    var i = 0
    /// Reused for strings that contain escapes.
    var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.end = bytes.count
        self.maximumDepth = maximumDepth
    }

    // MARK: Documents

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        let value = try parseValue(depth: 0)
        try expectEnd()
        return value
    }

    mutating func parseObjectWithRawValues() throws(JSONError) -> [(key: String, value: JSONValue, raw: Range<Int>)] {
        skipWhitespace()
        guard i < end, bytes[i] == ASCII.openBrace else { throw failure("expected a JSON object") }
        try checkDepth(1)
        i += 1
        var members: [(key: String, value: JSONValue, raw: Range<Int>)] = []
        var keys: [String] = []
        var frame = Frame(isObject: true, valueStart: 0, keyStart: 0, index: nil)
        skipWhitespace()
        if i < end, bytes[i] == ASCII.closeBrace {
            i += 1
        } else {
            try parseKey(keys: &keys, frame: &frame, afterComma: false)
            while true {
                skipWhitespace()
                let start = i
                let value = try parseValue(depth: 1)
                members.append((keys[keys.count - 1], value, start..<i))
                skipWhitespace()
                guard i < end else { throw failure("expected ',' or '}' after object member") }
                if bytes[i] == ASCII.comma {
                    i += 1
                    skipWhitespace()
                    try parseKey(keys: &keys, frame: &frame, afterComma: true)
                } else if bytes[i] == ASCII.closeBrace {
                    i += 1
                    break
                } else {
                    throw failure("expected ',' or '}' after object member")
                }
            }
        }
        try expectEnd()
        return members
    }

    mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if i < end { throw JSONError(offset: i, message: "unexpected data after the JSON value") }
    }

    // MARK: Values

    /// Parses one value starting at `i` (after optional whitespace) and leaves `i` just
    /// after it. `baseDepth` containers are already open around it.
    mutating func parseValue(depth baseDepth: Int) throws(JSONError) -> JSONValue {
        var values: [JSONValue] = []
        var keys: [String] = []
        var frames: [Frame] = []

        nextValue: while true {
            skipWhitespace()
            guard i < end else { throw failure("expected a value") }
            var value: JSONValue
            switch bytes[i] {
            case ASCII.quote:
                value = .string(try parseString())
            case ASCII.openBrace:
                try checkDepth(baseDepth + frames.count + 1)
                i += 1
                skipWhitespace()
                if i < end, bytes[i] == ASCII.closeBrace {
                    i += 1
                    value = .object(JSONObject())
                } else {
                    frames.append(Frame(isObject: true, valueStart: values.count, keyStart: keys.count, index: nil))
                    try parseKey(keys: &keys, frame: &frames[frames.count - 1], afterComma: false)
                    continue nextValue
                }
            case ASCII.openBracket:
                try checkDepth(baseDepth + frames.count + 1)
                i += 1
                skipWhitespace()
                if i < end, bytes[i] == ASCII.closeBracket {
                    i += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false, valueStart: values.count, keyStart: keys.count, index: nil))
                    continue nextValue
                }
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case ASCII.minus, ASCII.zero...ASCII.nine:
                value = try parseNumber()
            default:
                throw valueExpected()
            }

            // Close every container the value completes, until one wants another value.
            while !frames.isEmpty {
                values.append(value)
                skipWhitespace()
                // Not a copy of the frame: it would share the index and make every insert copy it.
                let isObject = frames[frames.count - 1].isObject
                let closing = isObject ? ASCII.closeBrace : ASCII.closeBracket
                guard i < end else {
                    throw failure(isObject ? "expected ',' or '}' after object member"
                                           : "expected ',' or ']' after array element")
                }
                let byte = bytes[i]
                if byte == ASCII.comma {
                    i += 1
                    skipWhitespace()
                    if isObject {
                        try parseKey(keys: &keys, frame: &frames[frames.count - 1], afterComma: true)
                    } else if i < end, bytes[i] == ASCII.closeBracket {
                        throw JSONError(offset: i, message: "trailing comma before ']'")
                    }
                    continue nextValue
                }
                guard byte == closing else {
                    throw failure(isObject ? "expected ',' or '}' after object member"
                                           : "expected ',' or ']' after array element")
                }
                i += 1
                let frame = frames.removeLast()
                if isObject {
                    let count = values.count - frame.valueStart
                    var members: [JSONObject.Element] = []
                    members.reserveCapacity(count)
                    for n in 0..<count {
                        members.append((keys[frame.keyStart + n], values[frame.valueStart + n]))
                    }
                    keys.removeSubrange(frame.keyStart...)
                    values.removeSubrange(frame.valueStart...)
                    value = .object(JSONObject(uniqueMembers: members, index: frame.index))
                } else {
                    let elements = Array(values[frame.valueStart...])
                    values.removeSubrange(frame.valueStart...)
                    value = .array(elements)
                }
            }
            return value
        }
    }

    /// Reads `"key" :` at `i`, refusing a key the object already has.
    mutating func parseKey(keys: inout [String], frame: inout Frame, afterComma: Bool) throws(JSONError) {
        guard i < end, bytes[i] == ASCII.quote else {
            if afterComma, i < end, bytes[i] == ASCII.closeBrace {
                throw JSONError(offset: i, message: "trailing comma before '}'")
            }
            throw failure(afterComma ? "expected a string key after ','" : "expected a string key or '}'")
        }
        let keyOffset = i
        let key = try parseString()
        let position = keys.count - frame.keyStart
        if frame.index != nil {
            if frame.index!.updateValue(position, forKey: UTF8Key(key)) != nil {
                throw duplicateKey(key, at: keyOffset)
            }
        } else {
            for existing in keys[frame.keyStart...] where utf8Equal(existing, key) {
                throw duplicateKey(key, at: keyOffset)
            }
            if position + 1 > JSONObject.indexThreshold {
                var index = [UTF8Key: Int](minimumCapacity: 2 * (position + 1))
                for (n, existing) in keys[frame.keyStart...].enumerated() {
                    index[UTF8Key(existing)] = n
                }
                index[UTF8Key(key)] = position
                frame.index = index
            }
        }
        keys.append(key)
        skipWhitespace()
        guard i < end, bytes[i] == ASCII.colon else { throw failure("expected ':' after object key") }
        i += 1
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        let matches = i + count <= end && (0..<count).allSatisfy { bytes[i + $0] == literal.utf8Start[$0] }
        guard matches else {
            throw JSONError(offset: i, message: "invalid literal, expected '\(literal)'")
        }
        i += count
    }

    // MARK: Strings

    /// Reads the string whose opening quote is at `i`.
    mutating func parseString() throws(JSONError) -> String {
        let start = i + 1
        var j = start
        while j < end {
            let byte = bytes[j]
            if byte == ASCII.quote {
                i = j + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)
            }
            if byte == ASCII.backslash {
                return try parseEscapedString(plainUntil: j, from: start)
            }
            if byte < 0x20 { throw controlCharacter(at: j) }
            j = byte < 0x80 ? j + 1 : try validateUTF8Sequence(at: j)
        }
        throw JSONError(offset: end, message: "unterminated string")
    }

    /// Finishes a string that has an escape at `firstEscape`; the bytes from `start` up to
    /// it are plain and already validated.
    mutating func parseEscapedString(plainUntil firstEscape: Int, from start: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<firstEscape]))
        var j = firstEscape
        while j < end {
            let byte = bytes[j]
            if byte == ASCII.quote {
                i = j + 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == ASCII.backslash {
                j = try decodeEscape(at: j)
                continue
            }
            let runStart = j
            while j < end {
                let byte = bytes[j]
                if byte == ASCII.quote || byte == ASCII.backslash { break }
                if byte < 0x20 { throw controlCharacter(at: j) }
                j = byte < 0x80 ? j + 1 : try validateUTF8Sequence(at: j)
            }
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<j]))
        }
        throw JSONError(offset: end, message: "unterminated string")
    }

    /// Appends the character of the escape at `j` (a backslash) to `scratch`; returns the
    /// index after the escape.
    mutating func decodeEscape(at j: Int) throws(JSONError) -> Int {
        guard j + 1 < end else { throw JSONError(offset: end, message: "unterminated string") }
        let simple: UInt8
        switch bytes[j + 1] {
        case ASCII.quote: simple = ASCII.quote
        case ASCII.backslash: simple = ASCII.backslash
        case ASCII.slash: simple = ASCII.slash
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = ASCII.newline
        case UInt8(ascii: "r"): simple = ASCII.carriageReturn
        case UInt8(ascii: "t"): simple = ASCII.tab
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: j + 2) else {
                throw JSONError(offset: j, message: "invalid \\u escape: expected 4 hexadecimal digits")
            }
            switch unit {
            case 0xD800...0xDBFF:
                guard j + 7 < end, bytes[j + 6] == ASCII.backslash, bytes[j + 7] == UInt8(ascii: "u") else {
                    throw JSONError(offset: j, message: "unpaired surrogate \(escapeText(unit)) in string")
                }
                guard let low = hex4(at: j + 8) else {
                    throw JSONError(offset: j + 6, message: "invalid \\u escape: expected 4 hexadecimal digits")
                }
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONError(offset: j, message: "unpaired surrogate \(escapeText(unit)) in string")
                }
                appendUTF8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                return j + 12
            case 0xDC00...0xDFFF:
                throw JSONError(offset: j, message: "unpaired surrogate \(escapeText(unit)) in string")
            default:
                appendUTF8(unit)
                return j + 6
            }
        default:
            throw JSONError(offset: j, message: "invalid escape '\\\(printable(bytes[j + 1]))' in string")
        }
        scratch.append(simple)
        return j + 2
    }

    /// The value of four hexadecimal digits at `k`, or nil.
    func hex4(at k: Int) -> UInt32? {
        guard k + 4 <= end else { return nil }
        var value: UInt32 = 0
        for n in k..<(k + 4) {
            let byte = bytes[n]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Checks the multi-byte UTF-8 sequence that starts at `j` (Unicode's table of
    /// well-formed sequences: no overlong forms, no surrogates, nothing above U+10FFFF);
    /// returns the index after it.
    @inline(__always)
    func validateUTF8Sequence(at j: Int) throws(JSONError) -> Int {
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let continuations: Int
        switch bytes[j] {
        case 0xC2...0xDF: continuations = 1
        case 0xE0: continuations = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuations = 2
        case 0xED: continuations = 2; high = 0x9F
        case 0xF0: continuations = 3; low = 0x90
        case 0xF1...0xF3: continuations = 3
        case 0xF4: continuations = 3; high = 0x8F
        default: throw JSONError(offset: j, message: "invalid UTF-8 in string")
        }
        guard j + continuations < end else { throw JSONError(offset: j, message: "invalid UTF-8 in string") }
        let second = bytes[j + 1]
        guard second >= low, second <= high else { throw JSONError(offset: j, message: "invalid UTF-8 in string") }
        if continuations >= 2 {
            for k in (j + 2)...(j + continuations) where bytes[k] & 0xC0 != 0x80 {
                throw JSONError(offset: j, message: "invalid UTF-8 in string")
            }
        }
        return j + continuations + 1
    }

    // MARK: Numbers

    /// Reads the number at `i`: an `.integer` when it has neither fraction nor exponent and
    /// fits in 64 bits, otherwise the correctly rounded `.double`.
    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = i
        var j = i
        let negative = bytes[j] == ASCII.minus
        if negative { j += 1 }
        guard j < end, isDigit(bytes[j]) else { throw digitExpected(at: j, "expected a digit after '-'") }
        let integerStart = j
        if bytes[j] == ASCII.zero {
            j += 1
            if j < end, isDigit(bytes[j]) {
                throw JSONError(offset: integerStart, message: "leading zeros are not allowed")
            }
        } else {
            repeat { j += 1 } while j < end && isDigit(bytes[j])
        }
        let integerEnd = j
        var fractionEnd = j
        var isInteger = true
        if j < end, bytes[j] == ASCII.dot {
            isInteger = false
            j += 1
            guard j < end, isDigit(bytes[j]) else {
                throw digitExpected(at: j, "expected a digit after the decimal point")
            }
            repeat { j += 1 } while j < end && isDigit(bytes[j])
            fractionEnd = j
        }
        var exponent = 0
        if j < end, bytes[j] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            j += 1
            var exponentNegative = false
            if j < end, bytes[j] == ASCII.plus || bytes[j] == ASCII.minus {
                exponentNegative = bytes[j] == ASCII.minus
                j += 1
            }
            guard j < end, isDigit(bytes[j]) else { throw digitExpected(at: j, "expected a digit in the exponent") }
            repeat {
                // Past this the result is 0 or infinite anyway; stop before Int overflows.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[j] - ASCII.zero) }
                j += 1
            } while j < end && isDigit(bytes[j])
            if exponentNegative { exponent = -exponent }
        }
        i = j

        if isInteger, let value = exactInteger(integerStart..<integerEnd, negative: negative) {
            return .integer(value)
        }
        if let value = fastDouble(integerStart..<integerEnd, fractionEnd: fractionEnd, exponent: exponent) {
            return .double(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONError(offset: start, message: "number out of range")
        }
        return .double(value)
    }

    /// The digits in `digits` as an Int64 with the given sign, or nil if it does not fit.
    func exactInteger(_ digits: Range<Int>, negative: Bool) -> Int64? {
        if digits.count <= 18 {
            var value: Int64 = 0
            for k in digits { value = value &* 10 &+ Int64(bytes[k] &- ASCII.zero) }
            return negative ? -value : value
        }
        guard digits.count == 19 else { return nil }
        // Accumulate on the negative side so that Int64.min fits.
        var value: Int64 = 0
        for k in digits {
            let digit = Int64(bytes[k] &- ASCII.zero)
            let (scaled, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = scaled.subtractingReportingOverflow(digit)
            if overflowA || overflowB { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// Clinger's fast path: when the significant digits fit in 53 bits and the power of ten
    /// is exact, one correctly rounded multiplication or division gives the correctly
    /// rounded result. Returns the magnitude, or nil when the slow path is needed.
    func fastDouble(_ integerDigits: Range<Int>, fractionEnd: Int, exponent: Int) -> Double? {
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var tooLong = false
        func add(_ k: Int) {
            let digit = UInt64(bytes[k] &- ASCII.zero)
            if mantissa == 0 && digit == 0 { return }
            significantDigits += 1
            if significantDigits > 19 { tooLong = true; return }
            mantissa = mantissa &* 10 &+ digit
        }
        for k in integerDigits { add(k) }
        let fractionStart = integerDigits.upperBound + 1
        let fractionDigits = max(0, fractionEnd - fractionStart)
        if fractionDigits > 0 { for k in fractionStart..<fractionEnd { add(k) } }
        if mantissa == 0 && !tooLong { return 0 }
        guard !tooLong, mantissa <= 1 << 53 else { return nil }
        let power = exponent - fractionDigits
        if power >= 0, power <= 22 { return Double(mantissa) * exactPowersOfTen[power] }
        if power < 0, power >= -22 { return Double(mantissa) / exactPowersOfTen[-power] }
        return nil
    }

    // MARK: Helpers

    @inline(__always)
    mutating func skipWhitespace() {
        while i < end {
            let byte = bytes[i]
            guard byte == ASCII.space || byte == ASCII.newline || byte == ASCII.carriageReturn || byte == ASCII.tab
            else { return }
            i += 1
        }
    }

    func checkDepth(_ depth: Int) throws(JSONError) {
        if depth > maximumDepth {
            throw JSONError(offset: i, message: "nesting exceeds the maximum depth of \(maximumDepth)")
        }
    }

    /// An error for a missing `expectation` at `i`, or at the end of the input.
    func failure(_ expectation: String) -> JSONError {
        if i >= end { return JSONError(offset: end, message: "unexpected end of input, \(expectation)") }
        return JSONError(offset: i, message: expectation)
    }

    func digitExpected(at j: Int, _ expectation: String) -> JSONError {
        if j >= end { return JSONError(offset: end, message: "unexpected end of input, \(expectation)") }
        return JSONError(offset: j, message: expectation)
    }

    /// Explains the byte at `i` where a value should start; common non-JSON spellings get
    /// a precise message.
    func valueExpected() -> JSONError {
        let message: String
        switch bytes[i] {
        case UInt8(ascii: "'"): message = "strings must be in double quotes"
        case ASCII.slash: message = "comments are not allowed"
        case UInt8(ascii: "N"), UInt8(ascii: "I"): message = "NaN and Infinity are not allowed"
        case ASCII.plus: message = "numbers cannot start with '+'"
        case ASCII.dot: message = "numbers must start with a digit"
        case ASCII.closeBracket, ASCII.closeBrace, ASCII.comma, ASCII.colon:
            message = "expected a value, found '\(printable(bytes[i]))'"
        default: message = "expected a value"
        }
        return JSONError(offset: i, message: message)
    }

    func controlCharacter(at j: Int) -> JSONError {
        JSONError(offset: j, message: "control character \(hexByte(bytes[j])) in string must be escaped")
    }

    func duplicateKey(_ key: String, at offset: Int) -> JSONError {
        var quoted: [UInt8] = []
        JSONWriter.writeString(key, into: &quoted)
        return JSONError(offset: offset, message: "duplicate key \(String(decoding: quoted, as: UTF8.self))")
    }
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool {
    byte &- ASCII.zero < 10
}

private let hexDigits = Array("0123456789ABCDEF".utf8)

/// "0x1F"
private func hexByte(_ byte: UInt8) -> String {
    String(decoding: [UInt8(ascii: "0"), UInt8(ascii: "x"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]],
           as: UTF8.self)
}

/// "\uD83D"
private func escapeText(_ unit: UInt32) -> String {
    var text: [UInt8] = [ASCII.backslash, UInt8(ascii: "u")]
    for shift in stride(from: 12, through: 0, by: -4) {
        text.append(hexDigits[Int(unit >> UInt32(shift) & 0xF)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// A printable ASCII byte as itself, any other as "0xNN".
private func printable(_ byte: UInt8) -> String {
    (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : hexByte(byte)
}
