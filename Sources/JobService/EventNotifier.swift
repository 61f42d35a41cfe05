#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import SystemV

/// An eventfd one process writes to wake another: the front-ends wake the pool
/// when they queue a job, the pool wakes a front-end when a job it waits for finishes.
/// Created by the supervisor before it forks, so every process inherits it.
public struct EventNotifier: Sendable {
    public let descriptor: Int32

    /// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC).
    public static func make() throws(SystemCallError) -> EventNotifier {
        let fd = try retryingInterrupts("eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC)") {
            eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        }
        return EventNotifier(descriptor: fd)
    }

    public init(descriptor: Int32) { self.descriptor = descriptor }

    /// Adds one to the counter; the reader wakes. A full counter (never in practice) already means "wake".
    public func signal() {
        var one: UInt64 = 1
        while write(descriptor, &one, 8) == -1 && errno == EINTR {}
    }

    /// Resets the counter after a wake-up.
    public func drain() {
        var value: UInt64 = 0
        while read(descriptor, &value, 8) == -1 && errno == EINTR {}
    }

    public func close() { _ = Glibc.close(descriptor) }
}
