/// Why a text is not the JSON the parser accepts, and where.
public struct JSONError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The byte offset in the input at which the problem was found (the input's length
    /// when it ended too early).
    public let offset: Int
    /// What was wrong, e.g. "expected ':' after object key".
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// "invalid JSON at byte 17: expected ':' after object key".
    public var description: String {
        "invalid JSON at byte \(offset): \(message)"
    }
}
