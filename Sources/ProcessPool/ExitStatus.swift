#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims

/// A child's wait status, decoded.
enum ExitStatus: Equatable {
    case exited(code: Int32)
    case signaled(signal: Int32)

    init(waitStatus status: Int32) {
        if fp_wifsignaled(status) != 0 {
            self = .signaled(signal: fp_wtermsig(status))
        } else {
            self = .exited(code: fp_wexitstatus(status))
        }
    }

    var description: String {
        switch self {
        case let .exited(code): return "exited with code \(code)"
        case let .signaled(signal): return "was killed by \(signalName(signal)) (signal \(signal))"
        }
    }
}

/// The conventional name of a signal, such as `SIGSEGV`.
public func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
        SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP", SIGXCPU: "SIGXCPU",
        SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
    ]
    return names[signal] ?? "signal \(signal)"
}
