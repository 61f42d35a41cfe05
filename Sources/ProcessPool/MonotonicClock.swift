#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds: cheap to read, immune to wall-clock jumps.
public enum MonotonicClock {
    public typealias Instant = UInt64

    public static var now: Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The instant `duration` from now.
    public static func deadline(after duration: Duration) -> Instant {
        now &+ duration.nanoseconds
    }

    /// Milliseconds for poll(2) until `deadline`, rounded up so a wait never ends early; 0 if it has passed.
    public static func pollTimeout(until deadline: Instant) -> Int32 {
        let current = now
        guard deadline > current else { return 0 }
        let milliseconds = (deadline - current + 999_999) / 1_000_000
        return Int32(min(milliseconds, UInt64(Int32.max)))
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped at zero.
    public var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

