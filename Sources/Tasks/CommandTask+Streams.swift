import ProcessPool

extension CommandTask {
    /// Longest progress line read; longer lines are not progress.
    static let maximumProgressLineBytes = 4096
    /// Longest progress message passed on; the job table keeps less.
    static let maximumProgressMessageBytes = 1024
    /// What starts a progress line on standard error.
    static let stderrProgressPrefix = Array("FORKPOOL_PROGRESS".utf8)

    /// A progress line, `PERCENT [MESSAGE]`: a number (clamped to 0...100 when reported),
    /// then optionally blanks and a free message. Anything else is not progress: nil.
    public static func progress(fromLine line: some Collection<UInt8>) -> Progress? {
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        let start = bytes.firstIndex { !isBlank($0) } ?? bytes.endIndex
        let end = bytes[start...].firstIndex(where: isBlank) ?? bytes.endIndex
        let number = bytes[start..<end]
        // Digits, sign, point and exponent only: no "nan", "inf" or hexadecimal.
        let numeric = Set("0123456789+-.eE".utf8)
        guard !number.isEmpty, number.allSatisfy(numeric.contains),
              let percent = Double(String(decoding: number, as: UTF8.self)), percent.isFinite else {
            return nil
        }
        var message = bytes[end...].drop(while: isBlank)
        while let last = message.last, isBlank(last) { message = message.dropLast() }
        if message.count > maximumProgressMessageBytes {
            var cut = message.startIndex + maximumProgressMessageBytes
            while cut > message.startIndex, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            message = message[..<cut]
        }
        return Progress(percent: percent, message: String(decoding: message, as: UTF8.self))
    }

    /// A stderr line `FORKPOOL_PROGRESS PERCENT [MESSAGE]`, else nil.
    static func progress(fromStderrLine line: [UInt8]) -> Progress? {
        let prefix = stderrProgressPrefix
        guard line.count > prefix.count, line.starts(with: prefix),
              line[prefix.count] == 0x20 || line[prefix.count] == 0x09 else { return nil }
        return progress(fromLine: line[(prefix.count + 1)...])
    }

    /// Cuts a stream into lines; a line longer than the limit is passed on as raw pieces.
    struct LineSplitter {
        enum Piece {
            /// A whole line, without its newline.
            case line([UInt8])
            /// Part of an over-long line, its newline included when it ends here.
            case raw([UInt8])
        }

        let maximumLineBytes: Int
        private var pending: [UInt8] = []
        private var overlong = false

        init(maximumLineBytes: Int) {
            self.maximumLineBytes = maximumLineBytes
        }

        mutating func feed(_ bytes: some Collection<UInt8>, _ emit: (Piece) -> Void) {
            var rest = Array(bytes)[...]
            while !rest.isEmpty {
                let newline = rest.firstIndex(of: UInt8(ascii: "\n"))
                let chunk = rest[..<(newline ?? rest.endIndex)]
                if overlong {
                    emit(.raw(Array(newline.map { rest[...$0] } ?? chunk)))
                } else if pending.count + chunk.count > maximumLineBytes {
                    overlong = true
                    emit(.raw(pending + chunk + (newline == nil ? [] : [UInt8(ascii: "\n")])))
                    pending.removeAll()
                } else if newline != nil {
                    emit(.line(pending + chunk))
                    pending.removeAll()
                } else {
                    pending.append(contentsOf: chunk)
                }
                guard let newline else { break }
                overlong = false
                rest = rest[(newline + 1)...]
            }
        }

        /// The end of the stream: a last line without a newline still counts.
        mutating func finish(_ emit: (Piece) -> Void) {
            if !pending.isEmpty { emit(.line(pending)) }
            pending.removeAll()
            overlong = false
        }
    }

    /// Progress lines from descriptor 3.
    struct ProgressReader {
        private var lines = LineSplitter(maximumLineBytes: CommandTask.maximumProgressLineBytes)

        mutating func feed(_ bytes: some Collection<UInt8>, _ report: (Progress) -> Void) {
            lines.feed(bytes) { piece in
                if case let .line(line) = piece, let progress = CommandTask.progress(fromLine: line) { report(progress) }
            }
        }

        mutating func finish(_ report: (Progress) -> Void) {
            lines.finish { piece in
                if case let .line(line) = piece, let progress = CommandTask.progress(fromLine: line) { report(progress) }
            }
        }
    }

    /// Standard error: progress lines are reported, the rest is kept, the last 4 KiB of it.
    struct StderrCollector {
        private var lines = LineSplitter(maximumLineBytes: CommandTask.maximumProgressLineBytes)
        private var kept: [UInt8] = []
        let limit: Int

        init(limit: Int = CommandTask.stderrTailBytes) {
            self.limit = limit
        }

        /// The last `limit` bytes that were not progress lines.
        var tail: [UInt8] { Array(kept.suffix(limit)) }

        mutating func feed(_ bytes: some Collection<UInt8>, _ report: (Progress) -> Void) {
            var pieces: [LineSplitter.Piece] = []
            lines.feed(bytes) { pieces.append($0) }
            for piece in pieces { keep(piece, report) }
        }

        mutating func finish(_ report: (Progress) -> Void) {
            var pieces: [LineSplitter.Piece] = []
            lines.finish { pieces.append($0) }
            for piece in pieces { keep(piece, report) }
        }

        private mutating func keep(_ piece: LineSplitter.Piece, _ report: (Progress) -> Void) {
            switch piece {
            case let .line(line):
                if let progress = CommandTask.progress(fromStderrLine: line) {
                    report(progress)
                } else {
                    kept.append(contentsOf: line)
                    kept.append(UInt8(ascii: "\n"))
                }
            case let .raw(bytes):
                kept.append(contentsOf: bytes)
            }
            if kept.count > 2 * limit { kept.removeFirst(kept.count - limit) }
        }
    }
}
