import Foundation
import HTTPServer
import Testing

extension HTTPServerTests {
    @Suite struct Lifecycle {
        /// Descriptors of the kinds a server opens: sockets, its epoll set, its eventfd.
        private static func serverKinds(_ descriptors: [Int32: String]) -> [Int32: String] {
            descriptors.filter {
                $0.value.hasPrefix("socket:") || $0.value.contains("eventpoll") || $0.value.contains("eventfd")
            }
        }

        @Test func stopAcceptingThenCloseLeavesNoThreadOrDescriptorBehind() throws {
            // Loop threads of earlier tests may still be on their way out.
            #expect(ProcessInspection.wait(timeout: 5) {
                !ProcessInspection.threadNames().contains(RunningServer.threadName)
            })
            let before = ProcessInspection.descriptors()

            let server = try RunningServer { $0.connectionTimeoutSeconds = 30 }
            let keptOpen = try RawHTTPClient(port: server.port)
            try keptOpen.request("GET", "/first")
            #expect(try keptOpen.readResponse().text == "GET /first 0")
            let suspended = try RawHTTPClient(port: server.port)
            try suspended.request("GET", "/suspend?token=11")
            #expect(server.handler.waitForEvents { $0.contains("suspend 11") })

            let during = ProcessInspection.descriptors()
            let opened = Self.serverKinds(during).filter { before[$0.key] != $0.value }
            #expect(opened.count >= 5, "listening socket, epoll, two connections and their client ends: \(opened)")
            // External-epoll mode: libmicrohttpd started no thread of its own.
            #expect(!ProcessInspection.threadNames().contains { $0.hasPrefix("MHD") })
            #expect(ProcessInspection.wait(timeout: 5) {
                ProcessInspection.threadNames().contains(RunningServer.threadName)
            }, "threads: \(ProcessInspection.threadNames())")

            server.stopAccepting()
            #expect(ProcessInspection.wait(timeout: 5) { (try? RawHTTPClient(port: server.port)) == nil })
            // An open connection is still answered after accepting stopped.
            try keptOpen.request("GET", "/second")
            #expect(try keptOpen.readResponse().text == "GET /second 0")

            #expect(server.stop())
            #expect(server.requestsInProgressAfterClose == 0)
            #expect(try keptOpen.waitForClose(timeout: 5))
            keptOpen.close()
            suspended.close()

            let leftOver = { () -> [Int32: String] in
                let now = ProcessInspection.descriptors()
                return opened.filter { now[$0.key] == $0.value }
            }
            #expect(ProcessInspection.wait(timeout: 5) { leftOver().isEmpty }, "still open: \(leftOver())")
            #expect(ProcessInspection.wait(timeout: 5) {
                !ProcessInspection.threadNames().contains(RunningServer.threadName)
            })
        }

        @Test func closeWithoutStopAcceptingReleasesTheListeningSocketToo() throws {
            let before = ProcessInspection.descriptors()
            let server = try HTTPServer(configuration: HTTPServerConfiguration(), handler: RecordingHandler())
            let port = server.port
            let opened = Self.serverKinds(ProcessInspection.descriptors()).filter { before[$0.key] != $0.value }
            #expect(opened.count >= 2, "listening socket and epoll: \(opened)")
            server.close()
            server.close()
            #expect(server.requestsInProgress == 0)
            #expect(server.openConnections == 0)
            #expect(throws: ClientError.self) { _ = try RawHTTPClient(port: port) }
            let leftOver = { () -> [Int32: String] in
                let now = ProcessInspection.descriptors()
                return opened.filter { now[$0.key] == $0.value }
            }
            #expect(ProcessInspection.wait(timeout: 5) { leftOver().isEmpty }, "still open: \(leftOver())")
        }
    }
}
