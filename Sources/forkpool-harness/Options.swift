#if canImport(Glibc)
import Glibc
#endif

/// `--name value` pairs of a harness command, read strictly: an unknown or
/// malformed option is an error, so a typo in a test cannot pass unnoticed.
struct Options {
    private var values: [String: String] = [:]
    private var used: Set<String> = []

    init(_ arguments: [String]) throws {
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            guard name.hasPrefix("--"), index + 1 < arguments.count else {
                throw HarnessUsageError("expected --name value, got \(arguments[index...])")
            }
            values[String(name.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
    }

    mutating func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        used.insert(name)
        guard let text = values[name] else {
            if let fallback { return fallback }
            throw HarnessUsageError("--\(name) is required")
        }
        let parsed = text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        guard let value = parsed else { throw HarnessUsageError("--\(name) \(text) is not a number") }
        return value
    }

    mutating func string(_ name: String, default fallback: String? = nil) throws -> String {
        used.insert(name)
        guard let text = values[name] ?? fallback else { throw HarnessUsageError("--\(name) is required") }
        return text
    }

    /// Throws if an option was given that no `int` or `string` call asked for.
    func finish() throws {
        let unknown = Set(values.keys).subtracting(used)
        if !unknown.isEmpty { throw HarnessUsageError("unknown options: \(unknown.sorted())") }
    }
}

struct HarnessUsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard output at once, unbuffered: tests wait on lines such
/// as `locked`, and forked workers must not inherit half-written buffers.
func say(_ line: String) {
    writeLine(line, to: 1)
}

/// Writes a line to standard error (descriptor 2: the C `stderr` global is not concurrency-safe in Swift 6).
func complain(_ line: String) {
    writeLine(line, to: 2)
}

private func writeLine(_ line: String, to descriptor: Int32) {
    var bytes = Array((line + "\n").utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
