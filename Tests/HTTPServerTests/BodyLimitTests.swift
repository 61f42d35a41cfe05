import Foundation
import HTTPServer
import Testing

extension HTTPServerTests {
    @Suite struct BodyLimits {
        private func makeServer() throws -> RunningServer {
            try RunningServer { $0.maximumBodyBytes = 1000 }
        }

        @Test func declaredContentLengthOverTheLimitIsAnsweredWithoutTheBody() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.header("X-Test-Frontend") == "4242")
            #expect(response.text.contains("body_too_large"))
            #expect(try client.waitForClose(timeout: 5))
            #expect(server.handler.eventLog == ["tooLarge POST /big limit=1000"])
        }

        @Test func expectContinueOverTheLimitGetsNoContinue() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.send("PUT /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 413)
        }

        @Test func bodyAtTheLimitIsAccepted() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request("POST", "/exact", body: [UInt8](repeating: 65, count: 1000))
            #expect(try client.readResponse().text == "POST /exact 1000")
        }

        @Test func chunkedBodyGrowingOverTheLimitIsAnsweredAtOnce() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = "190\r\n" + String(repeating: "c", count: 400) + "\r\n"  // 400 bytes each
            try client.send(chunk + chunk)
            #expect(!client.isReadable(within: 100))
            // The third chunk passes 1000; the body never ends, yet the answer comes.
            try client.send(chunk)
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.header("X-Test-Frontend") == "4242")
            #expect(response.text.contains("limit 1000"))
            #expect(try client.waitForClose(timeout: 5))
            #expect(server.handler.eventLog == ["tooLarge POST /chunked limit=1000"])
            #expect(!server.log.contains { $0.contains("internal error") })
        }

        @Test func chunkedBodyWithinTheLimitArrivesWhole() throws {
            let server = try makeServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            try client.send("6\r\n world\r\n0\r\n\r\n")
            #expect(try client.readResponse().text == "POST /chunked 11")
            #expect(server.handler.requests.first?.body == Array("hello world".utf8))
        }
    }
}
