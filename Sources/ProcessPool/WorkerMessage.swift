/// The payloads exchanged with a worker, inside frames (see `FrameDecoder`).
///
/// ```
/// task      (pool -> worker)  | 1 | task id u64 | name length u16 | name | input...   |
/// progress  (worker -> pool)  | 2 | task id u64 | percent f64     | message...        |
/// succeeded (worker -> pool)  | 3 | task id u64 | result...                           |
/// failed    (worker -> pool)  | 4 | task id u64 | code u8 | message...                |
/// ```
/// A failed frame's code is 0 when the handler threw, 1 when its result was too large.
/// Integers are big-endian; the f64 is its IEEE-754 bit pattern, big-endian.
/// A worker sends zero or more progress frames, then exactly one result frame
/// (succeeded or failed) for each task it is given.
enum WorkerMessage: Equatable, Sendable {
    case task(id: UInt64, name: String, input: [UInt8])
    case progress(id: UInt64, Progress)
    case succeeded(id: UInt64, result: [UInt8])
    case failed(id: UInt64, code: FailureCode, message: String)

    enum FailureCode: UInt8 {
        case taskError = 0, resultTooLarge = 1
    }

    private enum Kind: UInt8 {
        case task = 1, progress, succeeded, failed
    }

    /// Bytes of a message before its variable part: kind and task id.
    static let fixedPrefixLength = 9

    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case let .task(id, name, input):
            let nameBytes = Array(name.utf8.prefix(Int(UInt16.max)))
            bytes.reserveCapacity(Self.fixedPrefixLength + 2 + nameBytes.count + input.count)
            bytes.append(Kind.task.rawValue)
            bytes.appendBigEndian(id)
            bytes.appendBigEndian(UInt16(nameBytes.count))
            bytes.append(contentsOf: nameBytes)
            bytes.append(contentsOf: input)
        case let .progress(id, progress):
            bytes.append(Kind.progress.rawValue)
            bytes.appendBigEndian(id)
            bytes.appendBigEndian(progress.percent.bitPattern)
            bytes.append(contentsOf: progress.message.utf8)
        case let .succeeded(id, result):
            bytes.reserveCapacity(Self.fixedPrefixLength + result.count)
            bytes.append(Kind.succeeded.rawValue)
            bytes.appendBigEndian(id)
            bytes.append(contentsOf: result)
        case let .failed(id, code, message):
            bytes.append(Kind.failed.rawValue)
            bytes.appendBigEndian(id)
            bytes.append(code.rawValue)
            bytes.append(contentsOf: message.utf8)
        }
        return bytes
    }

    /// Parses a payload; nil when it is not a well-formed message.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= Self.fixedPrefixLength, let kind = Kind(rawValue: bytes[0]) else { return nil }
        let id = bytes.readBigEndian(UInt64.self, at: 1)
        let rest = bytes[Self.fixedPrefixLength...]
        switch kind {
        case .task:
            guard rest.count >= 2 else { return nil }
            let nameLength = Int(bytes.readBigEndian(UInt16.self, at: Self.fixedPrefixLength))
            let nameStart = Self.fixedPrefixLength + 2
            guard bytes.count >= nameStart + nameLength else { return nil }
            let name = String(decoding: bytes[nameStart..<nameStart + nameLength], as: UTF8.self)
            self = .task(id: id, name: name, input: Array(bytes[(nameStart + nameLength)...]))
        case .progress:
            guard rest.count >= 8 else { return nil }
            let percent = Double(bitPattern: bytes.readBigEndian(UInt64.self, at: Self.fixedPrefixLength))
            let message = String(decoding: bytes[(Self.fixedPrefixLength + 8)...], as: UTF8.self)
            self = .progress(id: id, Progress(percent: percent, message: message))
        case .succeeded:
            self = .succeeded(id: id, result: Array(rest))
        case .failed:
            guard let first = rest.first, let code = FailureCode(rawValue: first) else { return nil }
            self = .failed(id: id, code: code, message: String(decoding: rest.dropFirst(), as: UTF8.self))
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { append(contentsOf: $0) }
    }

    func readBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value = T.zero
        for index in offset..<offset + MemoryLayout<T>.size {
            value = value << 8 | T(self[index])
        }
        return value
    }
}
