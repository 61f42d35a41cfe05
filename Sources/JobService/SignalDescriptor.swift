#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import ProcessPool
import SystemV

/// Signals delivered as a readable descriptor (signalfd): the process blocks them
/// and its event loop reads them, so no code runs inside a signal handler.
public struct SignalDescriptor: Sendable {
    public let descriptor: Int32

    /// Blocks `signals` and opens a non-blocking signalfd for them.
    public static func open(_ signals: [Int32]) throws(SystemCallError) -> SignalDescriptor {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        _ = try retryingInterrupts("sigprocmask(SIG_BLOCK, \(signals.map(signalName)))") { sigprocmask(SIG_BLOCK, &mask, nil) }
        let fd = try retryingInterrupts("signalfd(-1, \(signals.map(signalName)), SFD_NONBLOCK|SFD_CLOEXEC)") {
            signalfd(-1, &mask, Int32(SFD_NONBLOCK) | Int32(SFD_CLOEXEC))
        }
        return SignalDescriptor(descriptor: fd)
    }

    /// The signals that arrived since the last call, in order.
    public func take() -> [Int32] {
        var signals: [Int32] = []
        var info = signalfd_siginfo()
        while read(descriptor, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            signals.append(Int32(info.ssi_signo))
        }
        return signals
    }

    public func close() { _ = Glibc.close(descriptor) }

    /// Unblocks every signal (in a new child, whose parent had some blocked).
    public static func unblockAll() {
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }
}
