#if canImport(Glibc)
import Glibc
#endif

/// The process environment, read without Foundation.
public enum ProcessEnvironment {
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

extension ProcessEnvironment {
    /// Removes `name` from the environment and overwrites its value in place first:
    /// unsetenv alone leaves the bytes where /proc/PID/environ (of this process and
    /// of every child forked later) still shows them.
    public static func scrub(_ name: String) {
        var pointer = environ
        let prefix = Array((name + "=").utf8)
        while let entry = pointer.pointee {
            let matches = prefix.indices.allSatisfy { UInt8(bitPattern: entry[$0]) == prefix[$0] }
            if matches {
                var index = prefix.count
                while entry[index] != 0 {
                    entry[index] = 0x2A  // '*'
                    index += 1
                }
            }
            pointer += 1
        }
        unsetenv(name)
    }
}
