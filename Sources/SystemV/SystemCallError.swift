#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, with which arguments, and the errno it set.
///
/// The description reads like an operator's log line, for example
/// `semget(0x00001f90, 2, 0600) failed: No space left on device (errno 28); raise SEMMNI (sysctl kernel.sem)`.
public struct SystemCallError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The call as written with its arguments, for example `shmget(0x00001f90, 4096, 01600)`.
    public let call: String
    /// The errno the call set.
    public let errno: Int32
    /// What an operator can do about it, when there is something.
    public let hint: String?

    public init(call: String, errno: Int32, hint: String? = nil) {
        self.call = call
        self.errno = errno
        self.hint = hint
    }

    /// The C library's text for `errno`.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        var text = "\(call) failed: \(reason) (errno \(errno))"
        if let hint { text += "; \(hint)" }
        return text
    }
}

/// Runs `body` until it returns something other than -1 with `EINTR`, and turns
/// any other -1 into a `SystemCallError` naming `call()`.
///
/// `call` is an autoclosure so the argument text is only built on failure.
@inlinable
public func retryingInterrupts<T: FixedWidthInteger>(
    _ call: @autoclosure () -> String,
    hint: (Int32) -> String? = { _ in nil },
    _ body: () -> T
) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: call(), errno: code, hint: hint(code))
    }
}

/// Formats a number as `0x` and eight hexadecimal digits, the way `ipcs` shows keys.
public func hex32(_ value: Int32) -> String {
    let digits = String(UInt32(bitPattern: value), radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// Formats a permission mode as octal with a leading zero, as in `0600`.
public func octal(_ value: Int32) -> String {
    "0" + String(value, radix: 8)
}
