import JSON
import Yams

/// Reading the YAML tree: the YAML 1.2 core schema, so a JSON file reads as the JSON it is.
extension TaskConfig {
    /// Plain scalars resolve as in YAML 1.2's core schema: `yes`, `no`, `on` and `off` stay
    /// strings, and there are no timestamps. Quoted scalars are always strings.
    static func coreSchemaResolver() -> Resolver {
        // The patterns are constants: a failure here is a bug the tests catch.
        let rules: [(Tag.Name, String)] = [
            (.null, "^(?:~|null|Null|NULL|)$"),
            (.bool, "^(?:true|True|TRUE|false|False|FALSE)$"),
            (.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
            (.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"),
        ]
        return rules.reduce(Resolver.basic) { resolver, rule in resolver.appending(try! Resolver.Rule(rule.0, rule.1)) }
    }

    /// The one document of `text`; nil when it holds none.
    static func parseDocument(_ text: String, file: String) throws(TaskConfigError) -> Node? {
        do {
            return try Yams.compose(yaml: text, coreSchemaResolver())
        } catch let error as YamlError {
            throw TaskConfigError(file: file, message: "not valid YAML: \(describe(error))")
        } catch {
            throw TaskConfigError(file: file, message: "not valid YAML: \(error)")
        }
    }

    /// One line for a YAML syntax error: where, and what.
    private static func describe(_ error: YamlError) -> String {
        func at(_ mark: Mark) -> String { "line \(mark.line), column \(mark.column)" }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return "\(at(mark)): \(problem)" + (context.map { " (\($0.text) at \(at($0.mark)))" } ?? "")
        case let .duplicatedKeysInMapping(duplicates, context):
            return "\(at(context.mark)): duplicate key \(duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", "))"
        case let .reader(problem, offset, _, _):
            return problem + (offset.map { " at byte \($0)" } ?? "")
        default:
            return String(String(describing: error).prefix { $0 != "\n" })
        }
    }
}

/// Node helpers for the configuration's fields.
extension Node {
    /// Where the node starts, for messages: ` (line 3)`, or empty.
    var place: String { mark.map { " (line \($0.line))" } ?? "" }

    /// The text of a scalar whose value is not null, as written (`8080`, `yes`, `a b`).
    var scalarText: String? {
        guard case let .scalar(scalar) = self, tagName != .null else { return nil }
        return scalar.string
    }

    /// The resolved tag's name (`Tag.name` is not public).
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }

    var isNullScalar: Bool {
        if case .scalar = self { return tagName == .null }
        return false
    }

    /// An integer scalar (decimal, `0x` hexadecimal or `0o` octal), else nil.
    var integerValue: Int64? {
        guard case let .scalar(scalar) = self, tagName == .int else { return nil }
        return parseYAMLInteger(scalar.string)
    }
}

/// Parses a YAML 1.2 core-schema integer; nil when it does not fit 64 bits.
func parseYAMLInteger(_ text: String) -> Int64? {
    if text.hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) }
    if text.hasPrefix("0o") { return Int64(text.dropFirst(2), radix: 8) }
    return Int64(text)
}

/// Turns a YAML tree into the JSON value it spells (for `input_schema`).
struct YAMLToJSON {
    /// Nodes converted so far; aliases can make a small file describe a huge tree.
    private var remaining = 100_000

    /// Why a node has no JSON value, and where the node is (a JSON pointer).
    struct Failure: Error {
        let pointer: String
        let message: String
    }

    mutating func convert(_ node: Node, at pointer: String = "") throws(Failure) -> JSONValue {
        remaining -= 1
        guard remaining >= 0 else { throw Failure(pointer: pointer, message: "more than 100000 values (aliases?)") }
        switch node {
        case let .scalar(scalar):
            switch node.tagName {
            case .null:
                return .null
            case .bool:
                return .bool(scalar.string.lowercased() == "true")
            case .int:
                if let value = parseYAMLInteger(scalar.string) { return .integer(value) }
                if let value = Double(scalar.string), value.isFinite { return .double(value) }
                throw Failure(pointer: pointer, message: "\(scalar.string) is not a JSON number")
            case .float:
                guard let value = Double(scalar.string), value.isFinite else {
                    throw Failure(pointer: pointer, message: "\(scalar.string) is not a JSON number")
                }
                return .double(value)
            case .str:
                return .string(scalar.string)
            default:
                throw Failure(pointer: pointer, message: "the YAML tag \(node.tag.rawValue) has no JSON value")
            }
        case let .sequence(sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, at: "\(pointer)/\(index)"))
            }
            return .array(items)
        case let .mapping(mapping):
            var members: [(String, JSONValue)] = []
            var seen = Set<String>()
            for (key, value) in mapping {
                guard case let .scalar(keyScalar) = key else {
                    throw Failure(pointer: pointer, message: "a key must be a string")
                }
                let name = keyScalar.string
                guard seen.insert(name).inserted else {
                    throw Failure(pointer: pointer, message: "duplicate key \"\(name)\"")
                }
                members.append((name, try convert(value, at: "\(pointer)/\(name)")))
            }
            return .object(JSONObject(members))
        case .alias:
            throw Failure(pointer: pointer, message: "an unresolved alias")
        }
    }
}
