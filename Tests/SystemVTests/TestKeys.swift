import Foundation
import SystemV
import Testing
import TestSupport

/// Keys for the tests of this target (see `uniqueTestKey`).
enum TestKeys {
    static func fresh() -> IPCKey { IPCKey(uniqueTestKey()) }
}

/// Runs `body` with `count` fresh keys. Afterwards every System V object still under one of
/// them fails the test, and is removed so that a failing test still leaves `ipcs` clean.
func withFreshKeys<T>(
    _ count: Int = 1, sourceLocation: SourceLocation = #_sourceLocation, _ body: ([IPCKey]) throws -> T
) throws -> T {
    let keys = (0..<count).map { _ in TestKeys.fresh() }
    defer {
        for raw in SystemVObjects.leftovers(among: Set(keys.map(\.rawValue))).sorted() {
            Issue.record("left behind a System V object with key \(IPCKey(raw))", sourceLocation: sourceLocation)
            _ = try? SharedMemorySegment.remove(key: IPCKey(raw))
            _ = try? SemaphoreSet.remove(key: IPCKey(raw))
        }
    }
    return try body(keys)
}

/// One fresh key; see `withFreshKeys`.
func withFreshKey<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: (IPCKey) throws -> T) throws -> T {
    try withFreshKeys(1, sourceLocation: sourceLocation) { try body($0[0]) }
}

/// The permission column of the line for `key` in /proc/sysvipc/shm or /proc/sysvipc/sem, as ipcs shows it.
func permissions(of key: IPCKey, in table: String) throws -> String? {
    let text = try String(contentsOfFile: "/proc/sysvipc/\(table)", encoding: .utf8)
    for line in text.split(separator: "\n").dropFirst() {
        let columns = line.split(separator: " ")
        if columns.count > 2, Int64(columns[0]).map({ Int32(truncatingIfNeeded: $0) }) == key.rawValue {
            return String(columns[2])
        }
    }
    return nil
}
