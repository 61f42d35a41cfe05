import Foundation
import HTTPServer
import Testing

extension HTTPServerTests {
    @Suite struct Requests {
        @Test func methodPathQueryHeadersAndBodyReachTheHandler() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request(
                "POST", "/items/a%20b?x=1&y=two+words&x=3&flag",
                headers: [("X-Custom-Thing", "Value One"), ("x-custom-thing", "second")],
                body: Array("hello body".utf8))
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "POST /items/a b 10")
            #expect(response.header("Content-Type") == "text/plain")

            let request = try #require(server.handler.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/items/a b")
            #expect(request.query.map(\.name) == ["x", "y", "x", "flag"])
            #expect(request.query.map(\.value) == ["1", "two words", "3", ""])
            #expect(request.queryValue("x") == "1")
            #expect(request.queryValue("missing") == nil)
            #expect(request.header("X-CUSTOM-THING") == "Value One")
            #expect(request.headers.filter { $0.name == "x-custom-thing" }.map(\.value) == ["Value One", "second"])
            #expect(request.headers.allSatisfy { $0.name == $0.name.lowercased() })
            #expect(request.header("host") == "localhost")
            #expect(request.body == Array("hello body".utf8))
            #expect(request.remoteAddress == "127.0.0.1")
            #expect(server.log.isEmpty)
        }

        @Test func keepAliveCarriesSeveralRequestsAndBinaryBodies() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let binary: [UInt8] = (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try client.request("PUT", "/one", body: binary)
            #expect(try client.readResponse().text == "PUT /one 2000")
            try client.request("GET", "/two")
            #expect(try client.readResponse().text == "GET /two 0")
            #expect(server.handler.requests.map(\.body) == [binary, []])
        }

        @Test func defaultHeadersOnEveryAnswerAndContentTypeOnlyWhenGiven() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/no-type")
            let plain = try client.readResponse()
            #expect(plain.status == 200)
            #expect(plain.header("X-Test-Frontend") == "4242")
            #expect(plain.header("Content-Type") == nil)
            try client.request("GET", "/status?code=404")
            let missing = try client.readResponse()
            #expect(missing.status == 404)
            #expect(missing.header("X-Test-Frontend") == "4242")
            try client.request("GET", "/status?code=42")
            let invalid = try client.readResponse()
            #expect(invalid.status == 500)
            #expect(invalid.header("X-Test-Frontend") == "4242")
        }

        @Test func headAnswersWithHeadersOnly() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request("HEAD", "/thing")
            let response = try client.readResponse(expectBody: false)
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "\("HEAD /thing 0".utf8.count)")
            #expect(response.header("X-Test-Frontend") == "4242")
            // The connection stays usable: no stray body bytes precede the next answer.
            try client.request("GET", "/after")
            #expect(try client.readResponse().text == "GET /after 0")
        }

        @Test func oddInputNeverBreaksTheServer() throws {
            let server = try RunningServer {
                $0.connectionMemoryLimit = 16 * 1024
                $0.connectionTimeoutSeconds = 1
            }
            defer { server.stop() }
            let oddRequests: [[UInt8]] = [
                Array("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                Array("GET /%00/../..//%zz?a=%zz&&=&b=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                Array("GET /with-body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde".utf8),
                Array("GET /\u{e9}t\u{e9} HTTP/1.1\r\nHost: x\r\nX-Bin: \u{1}\u{ff}\r\n\r\n".utf8),
                [0x00, 0xFF, 0xFE, 0x0D, 0x0A, 0x0D, 0x0A],
                Array("GET / HTTP/1.1\r\nno colon here\r\n\r\n".utf8),
                Array("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n".utf8),
                Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n".utf8),
                Array("GET / HTTP/1.1\r\nHost: x\r\nX-Huge: \(String(repeating: "h", count: 40_000))\r\n\r\n".utf8),
                Array("GET /\(String(repeating: "p", count: 40_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                Array("GET / HTTP/9.9\r\nHost: x\r\n\r\n".utf8),
                Array("\r\n\r\n\r\n".utf8),
            ]
            for (index, bytes) in oddRequests.enumerated() {
                let client = try RawHTTPClient(port: server.port)
                try client.send(bytes)
                // Any answer, or a close (by the 1 s connection timeout for input libmicrohttpd
                // still waits to complete), is fine; a hang or a crash is not.
                if let response = try? client.readResponse(timeout: 3) {
                    #expect((100...599).contains(response.status), "odd request \(index)")
                } else {
                    #expect(try client.waitForClose(timeout: 5), "odd request \(index)")
                }
            }
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/still-alive")
            #expect(try client.readResponse().text == "GET /still-alive 0")
            let paths = server.handler.requests.map(\.path)
            #expect(paths.contains("/pot"))
            #expect(paths.contains("/with-body"))
        }
    }
}
