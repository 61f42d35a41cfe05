#if canImport(Glibc)
import Glibc
#endif

/// One line on standard error naming the process's role and pid. Written with a
/// single write(2), so lines of several processes never interleave mid-line.
func logLine(_ role: String, _ message: String) {
    let line = "forkpool[\(role) \(getpid())]: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Writes `text` and a newline to standard output at once (the `listening on` line).
func printNow(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(1, $0, strlen($0)) }
}
