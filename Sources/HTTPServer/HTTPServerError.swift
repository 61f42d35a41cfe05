/// A server that could not start, for a reason other than a failed system call
/// (those throw `SystemCallError`).
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
