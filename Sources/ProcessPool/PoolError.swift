import SystemV

/// Why the pool refused a call.
public enum PoolError: Error, CustomStringConvertible {
    /// Forking from a multi-threaded process can deadlock the child on a lock another thread held.
    case notSingleThreaded(threads: Int)
    case unknownTask(String)
    case queueFull(capacity: Int)
    case invalidConfiguration(String)
    case shutDown
    case system(SystemCallError)

    public var description: String {
        switch self {
        case let .notSingleThreaded(threads):
            return "a forking pool needs a single-threaded process, this one has \(threads) threads"
        case let .unknownTask(name): return "no task named \(name) is registered"
        case let .queueFull(capacity): return "the pending queue is full (\(capacity) tasks)"
        case let .invalidConfiguration(reason): return "invalid pool configuration: \(reason)"
        case .shutDown: return "the pool has shut down"
        case let .system(error): return error.description
        }
    }
}
