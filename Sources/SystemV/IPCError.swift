/// Why a System V object could not be used, beyond a failed call (see `SystemCallError`).
public enum IPCError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The segment with this key was not made with the expected layout, or its header is inconsistent.
    case headerMismatch(key: IPCKey, detail: String)
    /// The segment with this key belongs to a live process, or live processes are still attached to it.
    case inUse(key: IPCKey, creatorPID: Int32)
    /// Text that names no key.
    case invalidKey(text: String, reason: String)
    /// A size, count or index outside what the call accepts.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .headerMismatch(key, detail):
            return "shared memory segment \(key) does not have the expected header: \(detail); "
                + "if nothing uses it any more, remove it with ipcrm -M \(key)"
        case let .inUse(key, creatorPID):
            return "shared memory segment \(key) is in use: created by process \(creatorPID), "
                + "which is still running or still has processes attached (ipcs -m -p); stop them first"
        case let .invalidKey(text, reason):
            return "\"\(text)\" is not an IPC key: \(reason)"
        case let .invalidArgument(detail):
            return detail
        }
    }
}
