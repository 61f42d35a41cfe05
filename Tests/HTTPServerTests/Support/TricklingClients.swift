import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Slow-header (slowloris) clients: each sends `script` one byte per tick, then `filler` bytes
/// forever, and notes when the server closes it.
final class TricklingClients {
    let clients: [RawHTTPClient]
    private let script: [UInt8]
    private let filler: UInt8
    private var sent: [Int]
    /// Seconds from `start` to the moment each client saw the server close it; nil while open.
    private(set) var closedAfter: [Double?]
    let start: Date

    /// Opens `count` connections to `port` from source addresses taken in turn from `sources`; `start` is now.
    init(count: Int, port: Int, sources: [String?] = [nil], script: String, filler: Character = "X") throws {
        clients = try (0..<count).map { try RawHTTPClient(port: port, from: sources[$0 % sources.count]) }
        start = Date()
        self.script = Array(script.utf8)
        self.filler = filler.asciiValue!
        sent = Array(repeating: 0, count: count)
        closedAfter = Array(repeating: nil, count: count)
    }

    var allClosed: Bool { closedAfter.allSatisfy { $0 != nil } }
    var openCount: Int { closedAfter.filter { $0 == nil }.count }

    /// Sends the next byte on every open client each `interval` seconds, watching for closes
    /// in between, until all are closed or `timeout` seconds after `start`. `during` runs once,
    /// at the first tick `at` seconds or more after `start`.
    func trickle(every interval: Double, until timeout: Double, at: Double = .infinity, during: () throws -> Void = {}) throws {
        var nextTick = Date()
        var duringDone = false
        while !allClosed {
            let now = Date()
            if now.timeIntervalSince(start) >= timeout { return }
            if now >= nextTick {
                if !duringDone && now.timeIntervalSince(start) >= at {
                    duringDone = true
                    try during()
                }
                for index in clients.indices where closedAfter[index] == nil { try sendNext(index) }
                nextTick = nextTick.addingTimeInterval(interval)
            }
            try watch(until: min(nextTick, start.addingTimeInterval(timeout)))
        }
    }

    private func sendNext(_ index: Int) throws {
        let byte = sent[index] < script.count ? script[sent[index]] : filler
        do {
            try clients[index].send([byte])
            sent[index] += 1
        } catch {
            // A reset by the server: it closed the connection while this byte was on its way.
            guard try clients[index].waitForClose(timeout: 1) else { throw error }
            closedAfter[index] = Date().timeIntervalSince(start)
        }
    }

    /// Polls the open clients until `deadline`, recording those the server closed.
    private func watch(until deadline: Date) throws {
        let open = clients.indices.filter { closedAfter[$0] == nil }
        var entries = open.map { pollfd(fd: clients[$0].fd, events: Int16(POLLIN), revents: 0) }
        let milliseconds = Int32(max(0, (deadline.timeIntervalSinceNow * 1000).rounded(.up)))
        let ready = poll(&entries, nfds_t(entries.count), milliseconds)
        guard ready > 0 else { return }
        for (index, entry) in zip(open, entries) where entry.revents != 0 {
            if try clients[index].waitForClose(timeout: 0.05) {
                closedAfter[index] = Date().timeIntervalSince(start)
            }
        }
    }
}
