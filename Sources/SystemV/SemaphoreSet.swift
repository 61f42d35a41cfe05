#if canImport(Glibc)
import Glibc
#endif

/// A System V semaphore set used as locks: 1 is free, 0 is held.
///
/// Every operation uses `SEM_UNDO`, so the kernel gives back what a process holds
/// when it dies, even by SIGKILL: a crashed holder never blocks the others.
/// A set has no creator record, so unlike a segment it is not reclaimed here; the
/// owner of the segment it guards removes it (`SemaphoreSet.remove(key:)`) once it has
/// proven the previous owner gone.
public final class SemaphoreSet: Sendable {
    /// The key the set was created or found with.
    public let key: IPCKey
    /// The kernel's id for the set, as `ipcs -s` lists it.
    public let id: Int32
    /// How many semaphores the set holds.
    public let count: Int

    private init(key: IPCKey, id: Int32, count: Int) {
        self.key = key
        self.id = id
        self.count = count
    }

    /// Creates a set with every semaphore at `initialValue`; wraps
    /// `semget(key, count, IPC_CREAT|IPC_EXCL|mode)` and `semctl(SETVAL)`.
    ///
    /// - Parameters:
    ///   - key: the key other processes will attach with.
    ///   - count: how many semaphores.
    ///   - initialValue: 1 makes each a free lock.
    ///   - mode: permission bits; the default lets only this user in.
    public static func create(key: IPCKey, count: Int = 1, initialValue: Int32 = 1, mode: Int32 = 0o600) throws -> SemaphoreSet {
        guard count >= 1, count <= Int(Int32.max) else {
            throw IPCError.invalidArgument("a semaphore set needs 1 or more semaphores, not \(count)")
        }
        guard mode & ~0o777 == 0 else {
            throw IPCError.invalidArgument("mode \(octal(mode)) has bits beyond 0777")
        }
        let id = try Syscall.semget(key, count: count, flags: IPC_CREAT | IPC_EXCL | mode)
        do {
            // Until this loop ends the semaphores read 0, "held": a process attaching early
            // waits for the set to be ready instead of entering a lock nobody granted.
            for index in 0..<count {
                try Syscall.semSetValue(id, index, initialValue)
            }
        } catch {
            try? Syscall.semRemove(id)
            throw error
        }
        return SemaphoreSet(key: key, id: id, count: count)
    }

    /// Finds the existing set with this key; wraps `semget(key, 0, 0)` and `semctl(IPC_STAT)`.
    public static func attach(key: IPCKey) throws -> SemaphoreSet {
        let id = try Syscall.semget(key, count: 0, flags: 0)
        let count = Int(try Syscall.semStat(id).sem_nsems)
        return SemaphoreSet(key: key, id: id, count: count)
    }

    /// Removes the set with this key, if there is one; wraps `semctl(id, 0, IPC_RMID)`.
    ///
    /// - Returns: whether a set was removed.
    @discardableResult
    public static func remove(key: IPCKey) throws -> Bool {
        do throws(SystemCallError) {
            let id = try Syscall.semget(key, count: 0, flags: 0)
            try Syscall.semRemove(id)
            return true
        } catch {
            // ENOENT: no such key; EINVAL/EIDRM: removed between the two calls.
            if error.errno == ENOENT || error.errno == EINVAL || error.errno == EIDRM { return false }
            throw error
        }
    }

    /// Takes the lock, waiting as long as it takes; wraps `semop(id, {index, -1, SEM_UNDO}, 1)`.
    ///
    /// A signal handler interrupting the wait does not end it.
    public func lock(_ index: Int = 0) throws {
        try Syscall.semop(id, operation(index, -1))
    }

    /// Takes the lock if it comes free within `timeout`; wraps `semtimedop(id, {index, -1, SEM_UNDO}, 1, timeout)`.
    ///
    /// A zero timeout tries once without waiting. Signal handlers interrupting the wait
    /// neither end it early nor extend it: it resumes with the time left on CLOCK_MONOTONIC.
    /// - Returns: true if the lock was taken, false if the time ran out.
    public func lock(_ index: Int = 0, timeout: Duration) throws -> Bool {
        let deadline = Syscall.monotonicNanoseconds() &+ Self.nanoseconds(timeout)
        return try Syscall.semtimedop(id, operation(index, -1), deadline: deadline)
    }

    /// Releases the lock; wraps `semop(id, {index, +1, SEM_UNDO}, 1)`.
    public func unlock(_ index: Int = 0) throws {
        try Syscall.semop(id, operation(index, 1))
    }

    /// Runs `body` holding the lock, and releases it however `body` ends.
    public func withLock<T>(_ index: Int = 0, _ body: () throws -> T) throws -> T {
        try lock(index)
        let result: T
        do {
            result = try body()
        } catch {
            // The body's error matters more than a failed unlock, which SEM_UNDO repairs at exit anyway.
            try? unlock(index)
            throw error
        }
        try unlock(index)
        return result
    }

    /// The semaphore's current value (1 free, 0 held for a lock); wraps `semctl(id, index, GETVAL)`.
    public func value(_ index: Int = 0) throws -> Int32 {
        try checkIndex(index)
        return try Syscall.semGetValue(id, index)
    }

    /// The process that last operated on the semaphore; wraps `semctl(id, index, GETPID)`.
    public func lastOperatorPID(_ index: Int = 0) throws -> Int32 {
        try checkIndex(index)
        return try Syscall.semGetPID(id, index)
    }

    /// Removes the set at once, waking every waiter with EIDRM; wraps `semctl(id, 0, IPC_RMID)`.
    public func remove() throws {
        try Syscall.semRemove(id)
    }

    private func operation(_ index: Int, _ delta: Int16) throws -> sembuf {
        try checkIndex(index)
        return sembuf(sem_num: UInt16(index), sem_op: delta, sem_flg: Int16(SEM_UNDO))
    }

    private func checkIndex(_ index: Int) throws {
        guard (0..<count).contains(index) else {
            throw IPCError.invalidArgument("semaphore index \(index) is outside the set of \(count) (key \(key))")
        }
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max / 2 : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
