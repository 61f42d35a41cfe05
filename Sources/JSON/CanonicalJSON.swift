/// The canonical form of `value`, for comparing JSON values: equal values (as JSON sees
/// them) give equal bytes.
///
/// Objects have their members sorted by the UTF-8 bytes of their keys, there is no
/// whitespace, strings are written as `JSONWriter` writes them, and numbers are
/// normalised so that equal numbers have one spelling: a number with an integral value in
/// the Int64 range is written as an integer (`1`, `1.0` and `1e0` all become `1`; `-0.0`
/// becomes `0`), any other as the shortest round-trip digits with a plain exponent
/// (`0.1`, `1e-5`, `1.5e300`).
public func canonicalJSON(_ value: JSONValue) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(64)
    writeCanonical(value, into: &output)
    return output
}

private func writeCanonical(_ value: JSONValue, into output: inout [UInt8]) {
    switch value {
    case .null, .bool, .integer, .string:
        JSONWriter.write(value, into: &output)
    case let .double(number):
        writeCanonicalNumber(number, into: &output)
    case let .array(elements):
        output.append(UInt8(ascii: "["))
        for (position, element) in elements.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            writeCanonical(element, into: &output)
        }
        output.append(UInt8(ascii: "]"))
    case let .object(object):
        output.append(UInt8(ascii: "{"))
        let members = object.members.sorted { utf8Less($0.key, $1.key) }
        for (position, member) in members.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(member.key, into: &output)
            output.append(UInt8(ascii: ":"))
            writeCanonical(member.value, into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

private func writeCanonicalNumber(_ number: Double, into output: inout [UInt8]) {
    if let integer = exactInt64(number) {
        JSONWriter.writeInteger(integer, into: &output)
        return
    }
    guard number.isFinite else {
        output.append(contentsOf: "null".utf8)
        return
    }
    // Not integral (or beyond Int64), so the description has a fraction or an exponent;
    // the exponent loses its '+' and leading zeros: "1e-05" -> "1e-5", "1e+300" -> "1e300".
    let text = Array(number.description.utf8)
    guard let e = text.firstIndex(of: UInt8(ascii: "e")) else {
        output.append(contentsOf: text)
        return
    }
    output.append(contentsOf: text[...e])
    var position = e + 1
    if text[position] == UInt8(ascii: "-") {
        output.append(UInt8(ascii: "-"))
        position += 1
    } else if text[position] == UInt8(ascii: "+") {
        position += 1
    }
    while position < text.count - 1, text[position] == UInt8(ascii: "0") { position += 1 }
    output.append(contentsOf: text[position...])
}
