import Foundation
import Testing
@testable import ProcessPool

@Suite("Frames: 4-byte big-endian length, then the payload")
struct FrameDecoderTests {
    @Test func encodesTheLengthBigEndian() {
        let frame = FrameEncoder.frame([UInt8](repeating: 7, count: 258))
        #expect(Array(frame.prefix(4)) == [0, 0, 1, 2])
        #expect(frame.count == 262)
    }

    @Test func assemblesAFrameFedOneByteAtATime() throws {
        let payload = Array("partial reads are normal".utf8)
        var decoder = FrameDecoder(maximumLength: 1024)
        let frame = FrameEncoder.frame(payload)
        for byte in frame.dropLast() {
            decoder.append([byte])
            #expect(try decoder.next() == nil)
        }
        decoder.append([frame.last!])
        #expect(try decoder.next() == payload)
        #expect(try decoder.next() == nil)
        try decoder.finish()
    }

    @Test func cutsSeveralFramesOutOfOneRead() throws {
        var decoder = FrameDecoder(maximumLength: 1024)
        let payloads: [[UInt8]] = [[], [1], Array(repeating: 9, count: 300), [2, 3]]
        decoder.append(payloads.flatMap { FrameEncoder.frame($0) })
        for payload in payloads {
            #expect(try decoder.next() == payload)
        }
        #expect(try decoder.next() == nil)
    }

    @Test func refusesALengthAboveTheMaximumFromTheHeaderAlone() {
        var decoder = FrameDecoder(maximumLength: 1000)
        decoder.append([0, 0, 0x03, 0xE9])  // 1001, and not one payload byte
        #expect(throws: FrameError.oversized(length: 1001, maximum: 1000)) { try decoder.next() }
    }

    @Test func acceptsALengthOfExactlyTheMaximum() throws {
        var decoder = FrameDecoder(maximumLength: 1000)
        decoder.append(FrameEncoder.frame([UInt8](repeating: 1, count: 1000)))
        #expect(try decoder.next()?.count == 1000)
    }

    @Test func endOfStreamInsideAFrameIsAnError() {
        var decoder = FrameDecoder(maximumLength: 1000)
        decoder.append([0, 0, 0, 100] + [UInt8](repeating: 0, count: 10))
        #expect(throws: FrameError.truncated(received: 14, expected: 104)) { try decoder.finish() }
        var headerOnly = FrameDecoder(maximumLength: 1000)
        headerOnly.append([0, 0])
        #expect(throws: FrameError.truncated(received: 2, expected: 4)) { try headerOnly.finish() }
    }
}

@Suite("Framed channel over a real socketpair")
struct FramedChannelTests {
    @Test func carriesFramesBothWaysAndEndsCleanlyBetweenFrames() throws {
        let (left, right) = try FramedChannel.pair(maximumFrameLength: 1024)
        try left.send(Array("ping".utf8))
        try left.send([UInt8]())
        #expect(try right.receive(timeout: .seconds(5)) == Array("ping".utf8))
        #expect(try right.receive(timeout: .seconds(5)) == [])
        try right.send(Array("pong".utf8))
        #expect(try left.receive(timeout: .seconds(5)) == Array("pong".utf8))
        left.close()
        #expect(try right.receive(timeout: .seconds(5)) == nil)
    }

    @Test func assemblesAFrameWrittenOneByteAtATime() throws {
        let (writer, reader) = try FramedChannel.pair(maximumFrameLength: 1024)
        let payload = Array("written in dribbles".utf8)
        let frame = FrameEncoder.frame(payload)
        let descriptor = writer.descriptor
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            for byte in frame {
                var byte = byte
                _ = write(descriptor, &byte, 1)
                sched_yield()
            }
            done.signal()
        }
        #expect(try reader.receive(timeout: .seconds(10)) == payload)
        #expect(done.wait(timeout: .now() + 10) == .success)
    }

    @Test func carriesAPayloadMuchLargerThanTheSocketBuffer() throws {
        let (sender, reader) = try FramedChannel.pair(maximumFrameLength: 32 << 20)
        nonisolated(unsafe) let writer = sender  // used by one thread only
        let payload = (0..<(12 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sent = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var sendError: Error?
        Thread.detachNewThread {
            do { try writer.send(payload) } catch { sendError = error }
            sent.signal()
        }
        let received = try reader.receive(timeout: .seconds(30))
        #expect(sent.wait(timeout: .now() + 30) == .success)
        #expect(sendError == nil)
        #expect(received == payload)
    }

    @Test func refusesAnOversizedFrameWithoutWaitingForItsPayload() throws {
        let (writer, reader) = try FramedChannel.pair(maximumFrameLength: 1024)
        var header: [UInt8] = [0x7F, 0xFF, 0xFF, 0xFF]
        #expect(write(writer.descriptor, &header, 4) == 4)
        #expect {
            _ = try reader.receive(timeout: .seconds(5))
        } throws: { error in
            guard case ChannelError.frame(.oversized(length: 0x7FFF_FFFF, maximum: 1024)) = error else { return false }
            return true
        }
    }

    @Test func refusesToSendMoreThanTheMaximum() throws {
        let (writer, _) = try FramedChannel.pair(maximumFrameLength: 16)
        #expect {
            try writer.send([UInt8](repeating: 0, count: 17))
        } throws: { error in
            guard case ChannelError.payloadTooLarge(length: 17, maximum: 16) = error else { return false }
            return true
        }
    }

    @Test func reportsAStreamThatEndsInsideAFrame() throws {
        let (writer, reader) = try FramedChannel.pair(maximumFrameLength: 1024)
        var partial: [UInt8] = [0, 0, 0, 100] + [UInt8](repeating: 1, count: 10)
        #expect(write(writer.descriptor, &partial, partial.count) == partial.count)
        writer.close()
        #expect {
            _ = try reader.receive(timeout: .seconds(5))
        } throws: { error in
            guard case ChannelError.frame(.truncated(received: 14, expected: 104)) = error else { return false }
            return true
        }
    }

    @Test func nonBlockingReceiveWaitsForDataAndTimesOut() throws {
        let (writer, reader) = try FramedChannel.pair(maximumFrameLength: 1024)
        defer { writer.close() }  // kept open: end of stream would end the wait too
        let flags = fcntl(reader.descriptor, F_GETFL)
        #expect(fcntl(reader.descriptor, F_SETFL, flags | O_NONBLOCK) == 0)
        #expect {
            _ = try reader.receive(timeout: .milliseconds(100))
        } throws: { error in
            guard case ChannelError.timedOut = error else { return false }
            return true
        }
    }

    @Test func nonBlockingSendContinuesAfterEAGAIN() throws {
        let (writer, receiver) = try FramedChannel.pair(maximumFrameLength: 8 << 20)
        nonisolated(unsafe) let reader = receiver  // used by one thread only
        let flags = fcntl(writer.descriptor, F_GETFL)
        #expect(fcntl(writer.descriptor, F_SETFL, flags | O_NONBLOCK) == 0)
        let payload = [UInt8](repeating: 0x5A, count: 4 << 20)
        let received = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var got: [UInt8]?
        Thread.detachNewThread {
            got = try? reader.receive(timeout: .seconds(30))
            received.signal()
        }
        try writer.send(payload)
        #expect(received.wait(timeout: .now() + 30) == .success)
        #expect(got == payload)
    }
}
