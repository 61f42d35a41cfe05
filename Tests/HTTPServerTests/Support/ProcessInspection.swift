import Foundation

/// What /proc says about this (test runner) process.
enum ProcessInspection {
    /// Open descriptors and what each refers to (`socket:[123]`, `anon_inode:[eventpoll]`, ...).
    static func descriptors() -> [Int32: String] {
        var result: [Int32: String] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for name in names {
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")
            else { continue }
            result[fd] = target
        }
        return result
    }

    /// Names (comm) of this process's threads.
    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Waits until `predicate` holds, checking every few milliseconds; false at the deadline.
    static func wait(timeout: Double, _ predicate: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !predicate() {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }
}
