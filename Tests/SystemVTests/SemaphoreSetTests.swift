import Foundation
@testable import SystemV
import Testing

@Suite("SemaphoreSet")
struct SemaphoreSetTests {
    @Test("lock takes the semaphore to 0 and unlock gives it back")
    func lockAndUnlock() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            defer { try? set.remove() }
            #expect(set.count == 1)
            #expect(try set.value() == 1)
            try set.lock()
            #expect(try set.value() == 0)
            #expect(try set.lastOperatorPID() == getpid())
            try set.unlock()
            #expect(try set.value() == 1)
        }
    }

    @Test("attach finds every semaphore of the set")
    func attach() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key, count: 3, initialValue: 2)
            defer { try? set.remove() }
            let found = try SemaphoreSet.attach(key: key)
            #expect(found.id == set.id)
            #expect(found.count == 3)
            try found.lock(2)
            #expect(try set.value(0) == 2)
            #expect(try set.value(2) == 1)
            try found.unlock(2)
        }
    }

    @Test("a timed lock times out while the lock is held, and succeeds once it is free")
    func timedLock() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            defer { try? set.remove() }
            try set.lock()
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try !set.lock(timeout: .milliseconds(150)))
            let waited = clock.now - start
            #expect(waited >= .milliseconds(140), "gave up after \(waited)")
            #expect(waited < .seconds(10))
            #expect(try !set.lock(timeout: .zero))

            try set.unlock()
            #expect(try set.lock(timeout: .milliseconds(150)))
            #expect(try set.value() == 0)
            try set.unlock()
            #expect(try set.lock(timeout: .zero))
            try set.unlock()
        }
    }

    @Test("withLock releases the lock when its body throws")
    func withLockReleasesOnThrow() throws {
        struct Failure: Error {}
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            defer { try? set.remove() }
            #expect(try set.withLock { try set.value() } == 0)
            #expect(throws: Failure.self) { try set.withLock { throw Failure() } }
            #expect(try set.value() == 1)
        }
    }

    @Test("an index outside the set is refused")
    func indexOutOfRange() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key, count: 2)
            defer { try? set.remove() }
            #expect(throws: IPCError.self) { try set.lock(2) }
            #expect(throws: IPCError.self) { try set.value(-1) }
            #expect(throws: IPCError.self) { try SemaphoreSet.create(key: key, count: 0) }
        }
    }

    @Test("a second create with the same key fails with EEXIST and says what to do")
    func doubleCreate() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            defer { try? set.remove() }
            let error = #expect(throws: SystemCallError.self) { try SemaphoreSet.create(key: key) }
            #expect(error?.errno == EEXIST)
            #expect(error?.call == "semget(\(key), 1, 03600)")
            #expect(error?.hint?.contains("ipcrm -S") == true)
        }
    }

    @Test("mode is 0600 unless asked otherwise")
    func mode() throws {
        try withFreshKeys(2) { keys in
            let owned = try SemaphoreSet.create(key: keys[0])
            defer { try? owned.remove() }
            let shared = try SemaphoreSet.create(key: keys[1], mode: 0o660)
            defer { try? shared.remove() }
            #expect(try permissions(of: keys[0], in: "sem") == "600")
            #expect(try permissions(of: keys[1], in: "sem") == "660")
        }
    }

    @Test("remove(key:) reports whether there was a set; a removed set fails loudly")
    func removal() throws {
        try withFreshKey { key in
            let set = try SemaphoreSet.create(key: key)
            #expect(try SemaphoreSet.remove(key: key))
            #expect(try !SemaphoreSet.remove(key: key))
            let error = #expect(throws: SystemCallError.self) { try set.lock() }
            #expect(error?.errno == EINVAL || error?.errno == EIDRM)
            #expect(error?.hint?.contains("removed") == true)
            #expect(throws: SystemCallError.self) { try SemaphoreSet.attach(key: key) }
        }
    }
}
