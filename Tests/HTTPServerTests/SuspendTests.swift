import Foundation
import HTTPServer
import Testing

extension HTTPServerTests {
    @Suite struct Suspend {
        @Test func answerArrivesOnlyAfterTheWatchedDescriptorResumesIt() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/suspend?token=7")
            #expect(server.handler.waitForEvents { $0.contains("suspend 7") })
            // Suspended: nothing may arrive before the resume is written.
            #expect(!client.isReadable(within: 50))
            let resumedAt = Date()
            server.resume(token: 7)
            let response = try client.readResponse(timeout: 5)
            #expect(response.status == 200)
            #expect(response.text == "resumed 7 timedOut=false")
            #expect(response.header("X-Test-Frontend") == "4242")
            #expect(Date().timeIntervalSince(resumedAt) < 2)
            // The connection is usable again afterwards.
            try client.request("GET", "/after")
            #expect(try client.readResponse().text == "GET /after 0")
            #expect(server.log.isEmpty)
        }

        @Test func oneResumeReleasesEveryRequestOnItsTokenAndIgnoresUnknownOnes() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let first = try RawHTTPClient(port: server.port)
            let second = try RawHTTPClient(port: server.port)
            let other = try RawHTTPClient(port: server.port)
            try first.request("GET", "/suspend?token=9")
            try second.request("GET", "/suspend?token=9")
            try other.request("GET", "/suspend?token=10")
            #expect(server.handler.waitForEvents { $0.filter { $0.hasPrefix("suspend") }.count == 3 })
            server.resume(token: 12345)
            server.resume(token: 9)
            #expect(try first.readResponse().text == "resumed 9 timedOut=false")
            #expect(try second.readResponse().text == "resumed 9 timedOut=false")
            #expect(!other.isReadable(within: 50))
            server.resume(token: 10)
            #expect(try other.readResponse().text == "resumed 10 timedOut=false")
        }

        @Test func resumeFromInsideAHandlerIsAnsweredPromptly() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let waiting = try RawHTTPClient(port: server.port)
            try waiting.request("GET", "/suspend?token=21")
            #expect(server.handler.waitForEvents { $0.contains("suspend 21") })
            let waker = try RawHTTPClient(port: server.port)
            try waker.request("POST", "/wake?token=21")
            #expect(try waker.readResponse().text == "woke 21")
            #expect(try waiting.readResponse(timeout: 2).text == "resumed 21 timedOut=false")
        }

        @Test func deadlineProducesTheTimedOutAnswer() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let sent = Date()
            try client.request("GET", "/suspend?token=3&deadline_ms=200")
            let response = try client.readResponse(timeout: 5)
            let elapsed = Date().timeIntervalSince(sent)
            #expect(response.text == "resumed 3 timedOut=true")
            #expect(response.header("X-Test-Frontend") == "4242")
            #expect(elapsed >= 0.19)
            #expect(elapsed < 2)
            #expect(server.handler.eventLog.filter { $0.hasPrefix("resumed") } == ["resumed 3 timedOut=true"])
        }

        @Test func deadlinesFireInDeadlineOrder() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let plan: [(token: UInt64, milliseconds: Int)] = [(1, 450), (2, 50), (3, 250), (4, 150), (5, 350)]
            let clients = try plan.map { entry in
                let client = try RawHTTPClient(port: server.port)
                try client.request("GET", "/suspend?token=\(entry.token)&deadline_ms=\(entry.milliseconds)")
                return client
            }
            for (client, entry) in zip(clients, plan) {
                #expect(try client.readResponse(timeout: 5).text == "resumed \(entry.token) timedOut=true")
            }
            let order = server.handler.eventLog.filter { $0.hasPrefix("resumed") }
            #expect(order == [2, 4, 3, 5, 1].map { "resumed \($0) timedOut=true" })
        }

        @Test func resumeAfterTheDeadlineChangesNothing() throws {
            let server = try RunningServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/suspend?token=4&deadline_ms=50")
            #expect(try client.readResponse().text == "resumed 4 timedOut=true")
            server.resume(token: 4)
            try client.request("GET", "/after")
            #expect(try client.readResponse().text == "GET /after 0")
            #expect(server.handler.eventLog.filter { $0.hasPrefix("resumed") }.count == 1)
        }

        @Test func closingWithSuspendedRequestsAnswersThemAndReleasesEverything() throws {
            let server = try RunningServer()
            let client = try RawHTTPClient(port: server.port)
            try client.request("GET", "/suspend?token=5")
            #expect(server.handler.waitForEvents { $0.contains("suspend 5") })
            #expect(server.stop())
            #expect(server.handler.eventLog.contains("resumed 5 timedOut=true"))
            #expect(server.requestsInProgressBeforeClose == 1)
            #expect(server.requestsInProgressAfterClose == 0)
            // Either the timed-out answer made it out before the daemon stopped, or the connection closed.
            if let response = try? client.readResponse(timeout: 5) {
                #expect(response.text == "resumed 5 timedOut=true")
            }
            #expect(try client.waitForClose(timeout: 5))
            #expect(server.log.isEmpty)
        }
    }
}
