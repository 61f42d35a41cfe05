import SystemV

/// Why the job table could not be created, attached or used.
public enum JobStoreError: Error, CustomStringConvertible, Equatable {
    case invalidLayout(String)
    /// The segment's recorded layout does not fit its size or its numbers are impossible.
    case corruptHeader(String)
    case system(String)

    public var description: String {
        switch self {
        case let .invalidLayout(reason): return "invalid job table layout: \(reason)"
        case let .corruptHeader(reason): return "job table header is not usable: \(reason)"
        case let .system(reason): return reason
        }
    }
}
