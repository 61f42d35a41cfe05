import Foundation
import HTTPServer
import ProcessPool
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension HTTPServerTests {
    @Suite struct Connections {
        @Test func silentClientIsDisconnectedByTheConnectionTimeout() throws {
            let server = try RunningServer { $0.connectionTimeoutSeconds = 1 }
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let connected = Date()
            #expect(try client.waitForClose(timeout: 10))
            let elapsed = Date().timeIntervalSince(connected)
            #expect(elapsed >= 0.9)
            #expect(elapsed < 5)
        }

        @Test func slowSenderWithinTheTimeoutIsServed() throws {
            let server = try RunningServer { $0.connectionTimeoutSeconds = 1 }
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let request = Array("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd".utf8)
            for byte in request {
                try client.send([byte])
                #expect(!client.isReadable(within: 5) || byte == request.last)
            }
            #expect(try client.readResponse().text == "POST /slow 4")
        }

        @Test func wakeByEndsAnIdleLoopOnTime() throws {
            let server = try HTTPServer(configuration: HTTPServerConfiguration(), handler: RecordingHandler())
            defer { server.close() }
            let wakeAt = MonotonicClock.deadline(after: .milliseconds(100))
            let started = MonotonicClock.now
            server.run(wakeBy: { wakeAt }, shouldStop: { MonotonicClock.now >= wakeAt })
            let elapsed = MonotonicClock.now - started
            #expect(elapsed >= 99_000_000)
            #expect(elapsed < 2_000_000_000)
        }

        @Test func manyConcurrentKeepAliveConnectionsAreAllAnswered() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let clients = try (0..<20).map { _ in try RawHTTPClient(port: server.port) }
            var answered = 0
            for round in 0..<10 {
                for (index, client) in clients.enumerated() {
                    try client.request("POST", "/c\(index)/r\(round)", body: Array(repeating: 120, count: index * 10 + round))
                }
                for (index, client) in clients.enumerated() {
                    let response = try client.readResponse(timeout: 10)
                    #expect(response.status == 200)
                    #expect(response.text == "POST /c\(index)/r\(round) \(index * 10 + round)")
                    #expect(response.header("X-Test-Frontend") == "4242")
                    answered += 1
                }
            }
            #expect(answered == 200)
            #expect(server.handler.requests.count == 200)
        }

        @Test func inheritedListeningDescriptorIsServed() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(bound == 0 && listen(fd, 16) == 0)
            let server = try RunningServer { $0.listenDescriptor = fd }
            defer { server.stop() }
            #expect(server.port > 0)
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/inherited")
            #expect(try client.readResponse().text == "GET /inherited 0")
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        }

        @Test func bindingATakenPortFailsWithTheCallNamed() throws {
            let first = try RunningServer()
            defer { first.stop() }
            let port = first.port
            #expect {
                _ = try HTTPServer(configuration: {
                    var configuration = HTTPServerConfiguration()
                    configuration.port = port
                    return configuration
                }(), handler: RecordingHandler())
            } throws: { error in
                "\(error)".contains("bind(") && "\(error)".contains("Address already in use")
            }
        }
    }
}
