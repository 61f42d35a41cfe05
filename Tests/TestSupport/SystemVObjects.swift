import Foundation
import Synchronization

/// The System V objects the kernel lists in /proc/sysvipc, by key: what `ipcs` shows.
public enum SystemVObjects {
    /// Keys of the shared-memory segments that exist now.
    public static func sharedMemoryKeys() -> Set<Int32> { keys(in: "/proc/sysvipc/shm") }
    /// Keys of the semaphore sets that exist now.
    public static func semaphoreKeys() -> Set<Int32> { keys(in: "/proc/sysvipc/sem") }

    /// Every segment or semaphore set whose key is in `keys`.
    public static func leftovers(among keys: Set<Int32>) -> Set<Int32> {
        sharedMemoryKeys().union(semaphoreKeys()).intersection(keys)
    }

    private static func keys(in path: String) -> Set<Int32> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var found = Set<Int32>()
        for line in text.split(separator: "\n").dropFirst() {
            if let first = line.split(separator: " ").first, let key = Int64(first) {
                found.insert(Int32(truncatingIfNeeded: key))
            }
        }
        return found
    }
}

private let handedOutKeys = Mutex<Set<Int32>>([])

/// A key no other test of this run was given and no existing object has:
/// `0x465` in the top bits, random below, so parallel tests never meet and
/// leftovers are recognisable in `ipcs`.
public func uniqueTestKey() -> Int32 {
    while true {
        let key = Int32(bitPattern: 0x4650_0000 | UInt32.random(in: 1...0xFFFF))
        if SystemVObjects.leftovers(among: [key]).isEmpty, handedOutKeys.withLock({ $0.insert(key).inserted }) {
            return key
        }
    }
}
