#if canImport(Glibc)
import Glibc
#endif
import SystemV

/// Why a framed channel could not send or receive.
public enum ChannelError: Error, CustomStringConvertible, Sendable {
    case system(SystemCallError)
    case frame(FrameError)
    /// A receive did not complete within its timeout.
    case timedOut
    /// A send larger than the channel's maximum frame length.
    case payloadTooLarge(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case let .system(error): return error.description
        case let .frame(error): return error.description
        case .timedOut: return "timed out waiting for a frame"
        case let .payloadTooLarge(length, maximum): return "payload of \(length) bytes exceeds the maximum frame of \(maximum) bytes"
        }
    }
}

/// One end of a socketpair carrying length-prefixed frames (see `FrameDecoder`).
///
/// Works on blocking and non-blocking descriptors alike: partial reads and writes
/// are continued, `EINTR` is retried and `EAGAIN` waits in poll(2).
public final class FramedChannel {
    /// The socket, owned by the channel until `close`.
    public private(set) var descriptor: Int32
    public let maximumFrameLength: Int
    private var decoder: FrameDecoder

    /// Takes ownership of `descriptor`.
    public init(descriptor: Int32, maximumFrameLength: Int) {
        self.descriptor = descriptor
        self.maximumFrameLength = maximumFrameLength
        self.decoder = FrameDecoder(maximumLength: maximumFrameLength)
    }

    deinit { close() }

    /// Two connected channels over socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC).
    public static func pair(maximumFrameLength: Int) throws(SystemCallError) -> (FramedChannel, FramedChannel) {
        let (a, b) = try Syscall.socketPair()
        return (FramedChannel(descriptor: a, maximumFrameLength: maximumFrameLength),
                FramedChannel(descriptor: b, maximumFrameLength: maximumFrameLength))
    }

    /// Sends one frame, writing header and payload in full.
    public func send(_ payload: some Collection<UInt8>) throws {
        guard payload.count <= maximumFrameLength else {
            throw ChannelError.payloadTooLarge(length: payload.count, maximum: maximumFrameLength)
        }
        let frame = FrameEncoder.frame(payload)
        try frame.withUnsafeBytes { try writeAll($0) }
    }

    /// Writes all of `bytes`, however many calls it takes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let written: Int?
            do { written = try Syscall.send(descriptor, rest) } catch { throw ChannelError.system(error) }
            if let written {
                offset += written
            } else {
                try waitFor(Int16(POLLOUT), deadline: nil)
            }
        }
    }

    /// Receives the next frame; nil at a clean end of stream (between frames).
    ///
    /// - Parameter timeout: gives up with `ChannelError.timedOut` after this long; nil waits as long as it takes.
    public func receive(timeout: Duration? = nil) throws -> [UInt8]? {
        let deadline = timeout.map { MonotonicClock.deadline(after: $0) }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            do {
                if let payload = try decoder.next() { return payload }
            } catch { throw ChannelError.frame(error) }
            let count: Int? = try chunk.withUnsafeMutableBytes { buffer -> Int? in
                do throws(SystemCallError) {
                    return try Syscall.read(descriptor, into: buffer)
                } catch {
                    throw ChannelError.system(error)
                }
            }
            switch count {
            case nil:
                try waitFor(Int16(POLLIN), deadline: deadline)
            case 0?:
                do { try decoder.finish() } catch { throw ChannelError.frame(error) }
                return nil
            case let n?:
                chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }

    /// Closes the descriptor; later calls do nothing.
    public func close() {
        if descriptor >= 0 {
            Syscall.close(descriptor)
            descriptor = -1
        }
    }

    private func waitFor(_ events: Int16, deadline: MonotonicClock.Instant?) throws {
        while true {
            var fds = [pollfd(fd: descriptor, events: events, revents: 0)]
            let timeout = deadline.map { MonotonicClock.pollTimeout(until: $0) } ?? -1
            let ready: Int
            do { ready = try Syscall.poll(&fds, timeoutMilliseconds: timeout) } catch { throw ChannelError.system(error) }
            if ready > 0 { return }
            if let deadline, MonotonicClock.now >= deadline { throw ChannelError.timedOut }
        }
    }
}
