#if canImport(Glibc)
import Glibc
#endif
import SystemV

/// How fast one process can take and release the System V lock when nobody else wants
/// it: the floor under every operation on the shared segment.
enum SemaphoreBenchmark {
    /// Times `pairs` lock+unlock pairs on a set of its own and returns pairs per second.
    static func lockUnlockPairsPerSecond(pairs: Int) throws -> Double {
        precondition(pairs > 0, "pairs must be positive")
        let set = try createPrivateSet()
        defer { try? set.remove() }

        let start = monotonicNanoseconds()
        for _ in 0..<pairs {
            try set.lock()
            try set.unlock()
        }
        let elapsed = monotonicNanoseconds() - start
        return Double(pairs) / (Double(max(elapsed, 1)) / 1e9)
    }

    /// A set under a random key ("FB" in the top bytes, so `ipcs` shows whose it is),
    /// trying another key when one is taken.
    private static func createPrivateSet() throws -> SemaphoreSet {
        var attempt = 0
        while true {
            let key = IPCKey(Int32(bitPattern: 0x4642_0000 | UInt32.random(in: 1...0xFFFF)))
            do {
                return try SemaphoreSet.create(key: key)
            } catch let error as SystemCallError where error.errno == EEXIST && attempt < 16 {
                attempt += 1
            }
        }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
