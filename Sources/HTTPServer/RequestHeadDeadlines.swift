/// The request-head deadline of every open connection, against slow-header (slowloris) clients:
/// libmicrohttpd's connection timeout only closes idle connections, and one byte now and then
/// keeps a connection from being idle forever.
///
/// A connection is armed when accepted and again when a request on it completes (keep-alive),
/// disarmed when a request head has arrived. One whose deadline passes is handed back by
/// `expire(now:)` to be shut down. A body upload is not covered: it arrives under the idle
/// timeout and the body size limit.
///
/// Connections are known by a serial, unique per server, which libmicrohttpd keeps for us in
/// the connection's `socket_context`.
struct RequestHeadDeadlines {
    private struct Watched {
        /// The `struct MHD_Connection *`, valid until libmicrohttpd reports the connection closed.
        let connection: OpaquePointer
        /// Nil while a request is in progress (or once expired).
        var deadline: UInt64?
        var expired = false
    }

    /// Nanoseconds a connection has for each request head; 0 = no deadline.
    let allowance: UInt64
    private var watched: [UInt64: Watched] = [:]
    /// Entries whose serial is gone or whose deadline no longer matches are stale and skipped.
    private var heap = DeadlineHeap()
    private var nextSerial: UInt64 = 0

    init(allowance: UInt64) {
        self.allowance = allowance
    }

    /// Connections open now.
    var count: Int { watched.count }
    /// Deadlines kept, stale ones included.
    var heapCount: Int { heap.count }
    /// Connections handed out by `expire` and not yet `closed`.
    private(set) var expiredOpen = 0

    /// A connection was accepted at `now`: arms its deadline; returns its serial (never 0).
    mutating func opened(_ connection: OpaquePointer, now: UInt64) -> UInt64 {
        nextSerial += 1
        watched[nextSerial] = Watched(connection: connection, deadline: nil)
        arm(nextSerial, now: now)
        return nextSerial
    }

    /// The connection delivered a request head in time.
    mutating func headArrived(_ serial: UInt64) {
        watched[serial]?.deadline = nil
    }

    /// A request on the connection completed at `now`: the next head is due from here.
    mutating func requestCompleted(_ serial: UInt64, now: UInt64) {
        arm(serial, now: now)
    }

    /// libmicrohttpd freed the connection.
    mutating func closed(_ serial: UInt64) {
        if watched.removeValue(forKey: serial)?.expired == true { expiredOpen -= 1 }
    }

    /// Disarms and returns the connections whose deadline is at or before `now` (they stay known
    /// until `closed`), and the next deadline.
    mutating func expire(now: UInt64) -> (expired: [OpaquePointer], next: UInt64?) {
        var expired: [OpaquePointer] = []
        while let first = heap.first {
            guard let entry = watched[first.serial], entry.deadline == first.deadline else {
                heap.removeFirst()
                continue
            }
            if first.deadline > now { break }
            heap.removeFirst()
            watched[first.serial]?.deadline = nil
            watched[first.serial]?.expired = true
            expiredOpen += 1
            expired.append(entry.connection)
        }
        // Every request adds an entry, so stale ones are dropped once they outnumber the live ones.
        if heap.count > 2 * watched.count + 64 {
            heap.filter { watched[$0.serial]?.deadline == $0.deadline }
        }
        return (expired, heap.first?.deadline)
    }

    private mutating func arm(_ serial: UInt64, now: UInt64) {
        guard allowance > 0, watched[serial] != nil else { return }
        let deadline = now &+ allowance
        watched[serial]?.deadline = deadline
        heap.insert(.init(deadline: deadline, serial: serial))
    }
}
