import JSON
import ProcessPool

extension CommandTask {
    /// What one job hands the command: its arguments and its standard input.
    public struct Invocation: Equatable, Sendable {
        public let arguments: [String]
        /// The bytes written to standard input; nil for /dev/null.
        public let standardInput: [UInt8]?
    }

    /// The arguments and standard input for a job's `input` (the JSON bytes the client sent).
    ///
    /// Every `{field}` element becomes exactly one argument: the field's string as it is,
    /// or the JSON text of a number or boolean. Nothing is spliced into a larger string and
    /// nothing passes through a shell. A missing field, or one of another type, fails the
    /// job with a message naming it.
    public func invocation(for input: [UInt8]) throws(TaskError) -> Invocation {
        let bytes = input.isEmpty ? Array("null".utf8) : input
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw TaskError("input is not valid JSON: \(error)")
        }
        var argv: [String] = []
        argv.reserveCapacity(arguments.count)
        var members: [(key: String, value: JSONValue, raw: Range<Int>)]?
        for (index, argument) in arguments.enumerated() {
            switch argument {
            case let .literal(text):
                argv.append(text)
            case let .field(field):
                if members == nil {
                    guard case .object = value, let parsed = try? JSONParser.parseObjectWithRawValues(bytes) else {
                        throw TaskError("argv[\(index)] is {\(field)}, but the input is not a JSON object with a field \"\(field)\"")
                    }
                    members = parsed
                }
                argv.append(try Self.argument(field, at: index, members: members ?? [], bytes: bytes))
            }
        }
        let stdin: [UInt8]?
        switch standardInput {
        case .none:
            stdin = nil
        case .json:
            // One line of compact JSON: `read` in a shell script gets all of it.
            stdin = JSONWriter.encode(value) + [UInt8(ascii: "\n")]
        }
        return Invocation(arguments: argv, standardInput: stdin)
    }

    private static func argument(_ field: String, at index: Int, members: [(key: String, value: JSONValue, raw: Range<Int>)],
                                 bytes: [UInt8]) throws(TaskError) -> String {
        guard let member = members.first(where: { utf8Equal($0.key, field) }) else {
            throw TaskError("input field \"\(field)\" is missing (argv[\(index)] is {\(field)})")
        }
        let text: String
        switch member.value {
        case let .string(string):
            text = string
        case .integer, .double:
            // The number as the client wrote it.
            text = String(decoding: bytes[member.raw], as: UTF8.self)
        case let .bool(flag):
            text = flag ? "true" : "false"
        case .null, .array, .object:
            throw TaskError("input field \"\(field)\" must be a string, a number or a boolean to fill argv[\(index)], not \(member.value.typeName)")
        }
        guard !text.utf8.contains(0) else {
            throw TaskError("input field \"\(field)\" contains a NUL character, which no argument can hold")
        }
        return text
    }

    /// The command's whole environment, as `NAME=value` strings sorted by name: the allowed
    /// variables that `server` has, then the fixed ones (which win), then
    /// `FORKPOOL_PROGRESS_FD=3`. `FORKPOOL_TOKEN` is never among them.
    public func environment(from server: [String: String]) -> [String] {
        var variables: [String: String] = [:]
        for name in allowedVariables {
            if let value = server[name] { variables[name] = value }
        }
        for variable in fixedVariables { variables[variable.name] = variable.value }
        variables[Self.progressVariable] = String(Self.progressDescriptor)
        variables[Self.tokenVariable] = nil
        return variables.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { "\($0.key)=\($0.value)" }
    }
}

/// Byte-wise equality: JSON field names are matched exactly, not by Unicode canonical equivalence.
private func utf8Equal(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8)
}
