#if canImport(Glibc)
import Glibc
#endif

/// A command-line problem: the message goes to standard error and the exit code is 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One flag of a command: `--name value` or `--name=value`, else the environment
/// variable `FORKPOOL_NAME` (dashes become underscores), else the default.
struct FlagSpec {
    let name: String
    let valueName: String
    let help: String
    /// Shown in --help; nil for flags without a default.
    let defaultText: String?
    /// A flag with no value (`--json`).
    var isSwitch = false

    var environmentName: String {
        "FORKPOOL_" + name.uppercased().replacingDashes
    }
}

/// The parsed flags of one command.
struct ParsedFlags {
    private var values: [String: String] = [:]
    private(set) var sources: [String: String] = [:]

    /// Reads `arguments` against `specs`; the command line wins over the environment.
    init(_ arguments: [String], specs: [FlagSpec], environment: [String: String]) throws {
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        for spec in specs {
            if let value = environment[spec.environmentName] {
                values[spec.name] = value
                sources[spec.name] = spec.environmentName
            }
        }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw UsageError("unexpected argument \"\(argument)\"") }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = byName[name] else {
                throw UsageError("unknown flag --\(name); see --help")
            }
            if spec.isSwitch {
                guard value == nil else { throw UsageError("--\(name) takes no value") }
                values[name] = "true"
            } else {
                if value == nil {
                    index += 1
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value (\(spec.valueName))") }
                    value = arguments[index]
                }
                values[name] = value
            }
            sources[name] = "--\(name)"
            index += 1
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func isSet(_ name: String) -> Bool { values[name] != nil }

    /// An integer within `range`, or `fallback` when not given.
    func integer(_ name: String, _ range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(sources[name] ?? "--\(name)") must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
        }
        return value
    }
}

/// Help text for a command's flags.
func helpText(command: String, summary: String, specs: [FlagSpec]) -> String {
    var lines = ["usage: forkpool \(command) [flags]", "", summary, "", "flags (each also read from FORKPOOL_<FLAG>; the flag wins):"]
    for spec in specs {
        let left = spec.isSwitch ? "  --\(spec.name)" : "  --\(spec.name) \(spec.valueName)"
        let padded = left.count < 34 ? left + String(repeating: " ", count: 34 - left.count) : left + "  "
        lines.append(padded + spec.help + (spec.defaultText.map { " (default: \($0))" } ?? ""))
    }
    return lines.joined(separator: "\n")
}

extension String {
    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}
