import Foundation
@testable import HTTPServer
import Testing

extension HTTPServerTests {
    /// `requestHeadTimeoutSeconds` against slow-header (slowloris) clients, with an idle timeout
    /// far too long to be what closes anything here.
    @Suite struct RequestHeadTimeout {
        private func makeServer() throws -> RunningServer {
            try RunningServer {
                $0.requestHeadTimeoutSeconds = 1
                $0.connectionTimeoutSeconds = 30
            }
        }

        private static let overdue = "no complete request head within 1 s"

        @Test func tricklingHeaderBytesIsCutOffAtTheDeadline() throws {
            let server = try makeServer()
            defer { server.stop() }
            let slow = try TricklingClients(
                count: 1, port: server.port, script: "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            try slow.trickle(every: 0.1, until: 5)
            let closedAfter = try #require(slow.closedAfter[0], "still open after 5 s")
            #expect(closedAfter >= 0.8)
            #expect(closedAfter < 5)
            #expect(server.handler.requests.isEmpty)
            // Once a later request is answered, libmicrohttpd has surely dealt with the shut socket.
            let after = try RawHTTPClient(port: server.port)
            try after.request("GET", "/after")
            #expect(try after.readResponse().text == "GET /after 0")
            #expect(server.log == ["HTTPServer: closing the connection from 127.0.0.1: \(Self.overdue)"])
        }

        @Test func headSentInPiecesWithinTheDeadlineIsAnswered() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /pieces HTTP/1.1\r\n")
            #expect(!client.isReadable(within: 300))
            try client.send("Host: x\r\nX-Part: two\r\n")
            #expect(!client.isReadable(within: 300))
            try client.send("\r\n")
            let response = try client.readResponse()
            #expect(response.text == "GET /pieces 0")
            #expect(server.handler.requests.first?.header("x-part") == "two")
        }

        @Test func slowBodyIsNotBoundByTheHeadDeadline() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
            // 4 body bytes over 1.6 s: past the head deadline, yet never idle for long.
            for byte in Array("abcd".utf8) {
                #expect(!client.isReadable(within: 400))
                try client.send([byte])
            }
            #expect(try client.readResponse().text == "POST /upload 4")
        }

        @Test func keepAliveRearmsTheDeadlineWhenARequestCompletes() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            #expect(!client.isReadable(within: 600))
            try client.request("GET", "/first")
            #expect(try client.readResponse().text == "GET /first 0")
            // 1.2 s after the accept: too late for a deadline counted from the accept.
            #expect(!client.isReadable(within: 600))
            try client.request("GET", "/second")
            #expect(try client.readResponse().text == "GET /second 0")
            let secondAnswered = Date()

            // The third head trickles: the deadline counts from the second request's completion.
            let slow = Array("GET /third HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "X"), count: 100)
            var closedAfter: Double?
            for byte in slow {
                if try client.waitForClose(timeout: 0.1) {
                    closedAfter = Date().timeIntervalSince(secondAnswered)
                    break
                }
                if Date().timeIntervalSince(secondAnswered) > 5 { break }
                try? client.send([byte])
            }
            let closed = try #require(closedAfter, "still open 5 s after the second answer")
            #expect(closed >= 0.8)
            #expect(closed < 3)
            #expect(server.handler.requests.map(\.path) == ["/first", "/second"])
        }

        @Test func suspendedRequestOutlivesTheHeadDeadline() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/suspend?token=31")
            #expect(server.handler.waitForEvents { $0.contains("suspend 31") })
            // Held twice the head deadline: neither answered nor closed meanwhile.
            #expect(!client.isReadable(within: 2000))
            server.resume(token: 31)
            #expect(try client.readResponse().text == "resumed 31 timedOut=false")
            try client.request("GET", "/after")
            #expect(try client.readResponse().text == "GET /after 0")
            #expect(!server.log.contains { $0.contains(Self.overdue) })
        }

        @Test func fiftyTricklersAreAllClosedWhileOthersAreServed() throws {
            let server = try makeServer()
            defer { server.stop() }
            let slow = try TricklingClients(
                count: 50, port: server.port, sources: ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"],
                script: "GET /healthz HTTP/1.1\r\nHost: x\r\n")
            var served: String?
            try slow.trickle(every: 0.1, until: 5, at: 0.5) {
                let client = try RawHTTPClient(port: server.port)
                try client.request("GET", "/normal")
                served = try client.readResponse(timeout: 2).text
            }
            #expect(served == "GET /normal 0")
            #expect(slow.allClosed, "\(slow.openCount) of 50 still open after 5 s")
            let times = slow.closedAfter.compactMap { $0 }
            #expect(times.allSatisfy { $0 >= 0.8 }, "closed too early: \(times.filter { $0 < 0.8 })")
            let after = try RawHTTPClient(port: server.port)
            try after.request("GET", "/after")
            #expect(try after.readResponse().text == "GET /after 0")
            #expect(server.handler.requests.map(\.path) == ["/normal", "/after"])
            // libmicrohttpd freed the 50 itself: only `after` is left, between requests.
            #expect(ProcessInspection.wait(timeout: 2) { server.count().map { $0 == (1, 0) } ?? false }, "\(String(describing: server.count()))")
            // One line each: libmicrohttpd's own about the shut socket is dropped.
            #expect(server.log.filter { $0.contains(Self.overdue) }.count == 50)
            #expect(server.log.allSatisfy { $0.contains(Self.overdue) }, "\(server.log.filter { !$0.contains(Self.overdue) })")
            let sources = Set(server.log.filter { $0.contains(Self.overdue) }.compactMap { line in
                line.components(separatedBy: "from ").last?.components(separatedBy: ":").first
            })
            #expect(sources == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"])
        }

        @Test func zeroMeansNoHeadDeadline() throws {
            let server = try RunningServer {
                $0.requestHeadTimeoutSeconds = 0
                $0.connectionTimeoutSeconds = 30
            }
            defer { server.stop() }
            let slow = try TricklingClients(count: 1, port: server.port, script: "GET /slow HTTP/1.1\r\nHost: x\r\n")
            try slow.trickle(every: 0.1, until: 1.5)
            #expect(slow.closedAfter[0] == nil)
        }

        @Test func deadlinesArmDisarmRearmAndForget() {
            let second: UInt64 = 1_000_000_000
            let a = OpaquePointer(bitPattern: 0x1000)!
            let b = OpaquePointer(bitPattern: 0x2000)!
            var deadlines = RequestHeadDeadlines(allowance: second)
            let first = deadlines.opened(a, now: 0)
            let other = deadlines.opened(b, now: second / 2)
            #expect(first != 0 && other != first)
            #expect(deadlines.expire(now: second - 1).expired.isEmpty)
            var result = deadlines.expire(now: second)
            #expect(result.expired == [a])
            #expect(result.next == second + second / 2)
            // Expired once only; then the head arrives on `other` in time and it is never due.
            #expect(deadlines.expire(now: second).expired.isEmpty)
            deadlines.headArrived(other)
            result = deadlines.expire(now: 10 * second)
            #expect(result.expired.isEmpty && result.next == nil)
            // Completion re-arms from its own time; a stale earlier entry does not fire it.
            deadlines.requestCompleted(other, now: 20 * second)
            #expect(deadlines.expire(now: 21 * second - 1).expired.isEmpty)
            #expect(deadlines.expire(now: 21 * second).expired == [b])
            #expect(deadlines.expiredOpen == 2)
            deadlines.closed(first)
            deadlines.closed(other)
            #expect(deadlines.count == 0)
            #expect(deadlines.expiredOpen == 0)
            // Unknown serials are ignored; a zero allowance never arms.
            deadlines.requestCompleted(other, now: 0)
            #expect(deadlines.expire(now: .max).expired.isEmpty)
            var none = RequestHeadDeadlines(allowance: 0)
            _ = none.opened(a, now: 0)
            #expect(none.expire(now: .max).expired.isEmpty)
        }

        @Test func staleEntriesDoNotPileUp() {
            var deadlines = RequestHeadDeadlines(allowance: 1_000)
            let serial = deadlines.opened(OpaquePointer(bitPattern: 0x1000)!, now: 0)
            for request in 1...10_000 {
                deadlines.headArrived(serial)
                deadlines.requestCompleted(serial, now: UInt64(request))
                _ = deadlines.expire(now: UInt64(request))
            }
            #expect(deadlines.heapCount <= 2 * deadlines.count + 65)
            #expect(deadlines.expire(now: 11_000).expired.count == 1)
        }
    }
}
