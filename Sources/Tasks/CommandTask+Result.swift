import JSON
import ProcessPool

extension CommandTask {
    /// How a command ended.
    public enum Termination: Equatable, Sendable {
        case exited(code: Int32)
        case signaled(signal: Int32)
    }

    /// The job's result for a command that ended by itself:
    /// `{"exit_code": 0, "output": ...}` after exit code 0, else the failure naming the
    /// exit code or the signal, with the tail of standard error.
    ///
    /// - Parameters:
    ///   - stdout: everything the command wrote on standard output.
    ///   - stderrTail: the last bytes it wrote on standard error (progress lines left out).
    public func result(of termination: Termination, stdout: [UInt8], stderrTail: [UInt8]) throws(TaskError) -> [UInt8] {
        switch termination {
        case let .exited(code) where code != 0:
            throw TaskError(Self.withTail("command exited with code \(code)", stderrTail))
        case let .signaled(signal):
            throw TaskError(Self.withTail("command was killed by \(signalName(signal))", stderrTail))
        case .exited:
            break
        }
        var result = Array(#"{"exit_code":0,"output":"#.utf8)
        switch outputFormat {
        case .json:
            let trimmed = Self.trimmingJSONWhitespace(stdout)
            do {
                _ = try JSONParser.parse(Array(trimmed))
            } catch {
                let shown = trimmed.isEmpty ? "the command wrote nothing" : "\(error)"
                throw TaskError("command output is not valid JSON: \(shown)")
            }
            // The value exactly as the command wrote it: integers and doubles keep their digits.
            result.append(contentsOf: trimmed)
        case .text:
            JSONWriter.writeString(String(decoding: stdout, as: UTF8.self), into: &result)
        }
        result.append(UInt8(ascii: "}"))
        return result
    }

    /// The message of a job whose command wrote more than `max_output_bytes`.
    public var outputTooLargeMessage: String {
        "command output exceeded max_output_bytes (\(maximumOutputBytes) bytes); the command was killed"
    }

    /// The job table keeps at most this much of a failure's message.
    static let maximumMessageBytes = 4096

    /// `message: tail`, or just `message` when standard error was empty; the tail loses its
    /// start when the whole would not fit `maximumMessageBytes`.
    static func withTail(_ message: String, _ tail: [UInt8]) -> String {
        var bytes = tail.suffix(max(0, maximumMessageBytes - message.utf8.count - 2))
        // The tail may start inside a UTF-8 sequence: drop the continuation bytes.
        while let first = bytes.first, first & 0xC0 == 0x80 { bytes = bytes.dropFirst() }
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()
        return trimmed.isEmpty ? message : "\(message): \(String(trimmed))"
    }

    static func trimmingJSONWhitespace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return []
        }
        return bytes[first...last]
    }
}
