// The libc calls of this module, one wrapper each: -1 becomes a SystemCallError
// naming the call as an operator would type it, with a hint where there is one.
#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims

enum Syscall {
    // MARK: Keys

    static func ftok(_ path: String, _ projectID: UInt8) throws(SystemCallError) -> Int32 {
        try retryingInterrupts("ftok(\"\(path)\", \(projectIDText(projectID)))") {
            Glibc.ftok(path, Int32(projectID))
        }
    }

    // MARK: Shared memory

    static func shmget(_ key: IPCKey, size: Int, flags: Int32) throws(SystemCallError) -> Int32 {
        try retryingInterrupts("shmget(\(key), \(size), \(flagsText(flags)))",
                               hint: { Hint.shmget($0, creating: flags & IPC_CREAT != 0) }) {
            Glibc.shmget(key.rawValue, size, flags)
        }
    }

    static func shmat(_ id: Int32, readOnly: Bool) throws(SystemCallError) -> UnsafeMutableRawPointer {
        let flags = readOnly ? SHM_RDONLY : 0
        // shmat reports failure as (void *)-1, which is -1 once seen as an address.
        let address = try retryingInterrupts("shmat(\(id), NULL, \(readOnly ? "SHM_RDONLY" : "0"))",
                                             hint: Hint.access) {
            Int(bitPattern: Glibc.shmat(id, nil, flags))
        }
        return UnsafeMutableRawPointer(bitPattern: address)!
    }

    static func shmdt(_ address: UnsafeRawPointer) throws(SystemCallError) {
        _ = try retryingInterrupts("shmdt(\(address))") { Glibc.shmdt(address) }
    }

    static func shmStat(_ id: Int32) throws(SystemCallError) -> shmid_ds {
        var status = shmid_ds()
        _ = try retryingInterrupts("shmctl(\(id), IPC_STAT)", hint: Hint.access) {
            Glibc.shmctl(id, IPC_STAT, &status)
        }
        return status
    }

    static func shmRemove(_ id: Int32) throws(SystemCallError) {
        _ = try retryingInterrupts("shmctl(\(id), IPC_RMID)", hint: Hint.owner) {
            Glibc.shmctl(id, IPC_RMID, nil)
        }
    }

    // MARK: Semaphores

    static func semget(_ key: IPCKey, count: Int, flags: Int32) throws(SystemCallError) -> Int32 {
        try retryingInterrupts("semget(\(key), \(count), \(flagsText(flags)))",
                               hint: { Hint.semget($0, creating: flags & IPC_CREAT != 0) }) {
            Glibc.semget(key.rawValue, Int32(count), flags)
        }
    }

    /// semop on one semaphore; a wait cut short by a signal handler is simply started
    /// again, because the kernel never restarts semop itself.
    static func semop(_ id: Int32, _ operation: sembuf) throws(SystemCallError) {
        var operation = operation
        _ = try retryingInterrupts("semop(\(id), \(operationText(operation)), 1)", hint: Hint.semop) {
            Glibc.semop(id, &operation, 1)
        }
    }

    /// semtimedop on one semaphore until `deadline` (CLOCK_MONOTONIC nanoseconds);
    /// false when the deadline passed first.
    ///
    /// After EINTR the wait resumes with only the time that is left, so a stream of
    /// signals can neither end the wait early nor stretch it past the deadline.
    static func semtimedop(_ id: Int32, _ operation: sembuf, deadline: UInt64) throws(SystemCallError) -> Bool {
        var operation = operation
        do throws(SystemCallError) {
            _ = try retryingInterrupts("semtimedop(\(id), \(operationText(operation)), 1, timeout)",
                                       hint: Hint.semop) {
                var timeout = timespecUntil(deadline)
                return fp_semtimedop(id, &operation, 1, &timeout)
            }
            return true
        } catch {
            if error.errno == EAGAIN { return false }
            throw error
        }
    }

    static func semGetValue(_ id: Int32, _ index: Int) throws(SystemCallError) -> Int32 {
        try retryingInterrupts("semctl(\(id), \(index), GETVAL)", hint: Hint.semop) {
            fp_semctl_getval(id, Int32(index))
        }
    }

    static func semSetValue(_ id: Int32, _ index: Int, _ value: Int32) throws(SystemCallError) {
        _ = try retryingInterrupts("semctl(\(id), \(index), SETVAL, \(value))",
                                   hint: { $0 == ERANGE ? "a semaphore value must lie in 0...SEMVMX (32767)" : Hint.semop($0) }) {
            fp_semctl_setval(id, Int32(index), value)
        }
    }

    static func semGetPID(_ id: Int32, _ index: Int) throws(SystemCallError) -> Int32 {
        try retryingInterrupts("semctl(\(id), \(index), GETPID)", hint: Hint.semop) {
            fp_semctl_getpid(id, Int32(index))
        }
    }

    static func semStat(_ id: Int32) throws(SystemCallError) -> semid_ds {
        var status = semid_ds()
        _ = try retryingInterrupts("semctl(\(id), 0, IPC_STAT)", hint: Hint.access) {
            fp_semctl_stat(id, &status)
        }
        return status
    }

    static func semRemove(_ id: Int32) throws(SystemCallError) {
        _ = try retryingInterrupts("semctl(\(id), 0, IPC_RMID)", hint: Hint.owner) {
            fp_semctl_rmid(id)
        }
    }

    // MARK: Processes and clocks

    /// Whether a process with this id exists. EPERM means it exists but belongs to
    /// someone else: for deciding whether an owner is gone, that counts as alive.
    static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return Glibc.kill(pid, 0) == 0 || errno != ESRCH
    }

    static func currentPID() -> Int32 { Glibc.getpid() }

    /// Seconds since the epoch, for the header's creation time.
    static func wallClockSeconds() -> Int64 { Int64(Glibc.time(nil)) }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        // Cannot fail for CLOCK_MONOTONIC with a valid pointer.
        _ = clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func timespecUntil(_ deadline: UInt64) -> timespec {
        let now = monotonicNanoseconds()
        let left = deadline > now ? deadline - now : 0
        return timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
    }

    // MARK: Text for errors

    static func flagsText(_ flags: Int32) -> String { flags == 0 ? "0" : octal(flags) }

    static func projectIDText(_ projectID: UInt8) -> String {
        (0x20..<0x7F).contains(projectID) && projectID != UInt8(ascii: "'")
            ? "'\(Character(Unicode.Scalar(projectID)))'"
            : "\(projectID)"
    }

    static func operationText(_ operation: sembuf) -> String {
        var flags: [String] = []
        if Int32(operation.sem_flg) & Int32(SEM_UNDO) != 0 { flags.append("SEM_UNDO") }
        if Int32(operation.sem_flg) & IPC_NOWAIT != 0 { flags.append("IPC_NOWAIT") }
        let flagText = flags.isEmpty ? "0" : flags.joined(separator: "|")
        return "{\(operation.sem_num), \(operation.sem_op), \(flagText)}"
    }
}

/// What an operator can do about a failed call, by errno.
enum Hint {
    static func shmget(_ code: Int32, creating: Bool) -> String? {
        switch code {
        case ENOSPC: return "raise SHMMNI/SHMALL (sysctl kernel.shmmni, kernel.shmall)"
        case EINVAL where creating: return "size above SHMMAX? (sysctl kernel.shmmax)"
        case EINVAL: return "the existing segment is smaller than the size asked for"
        case ENOENT: return "no segment has this key (ipcs -m); is the service running?"
        case EEXIST: return "a segment with this key exists (ipcs -m); stop its owner or remove it (ipcrm -M KEY)"
        case ENOMEM: return "not enough memory for the segment"
        default: return access(code)
        }
    }

    static func semget(_ code: Int32, creating: Bool) -> String? {
        switch code {
        case ENOSPC: return "raise SEMMNI/SEMMNS (sysctl kernel.sem)"
        case EINVAL where creating: return "more semaphores than SEMMSL allows, or an existing set with this key has fewer (sysctl kernel.sem; ipcs -s)"
        case EINVAL: return "the existing set has fewer semaphores than asked for (ipcs -s)"
        case ENOENT: return "no semaphore set has this key (ipcs -s); is the service running?"
        case EEXIST: return "a semaphore set with this key exists (ipcs -s); stop its owner or remove it (ipcrm -S KEY)"
        default: return access(code)
        }
    }

    static func semop(_ code: Int32) -> String? {
        switch code {
        case EIDRM, EINVAL: return "the semaphore set was removed (is the service stopping?)"
        case EFBIG: return "no semaphore with this index in the set"
        case ERANGE: return "the semaphore would pass SEMVMX (32767): unlocked more often than locked?"
        default: return access(code)
        }
    }

    static func access(_ code: Int32) -> String? {
        code == EACCES ? "owned by another user, or its mode forbids access (ipcs -c shows owner and mode)" : nil
    }

    static func owner(_ code: Int32) -> String? {
        switch code {
        case EPERM: return "only the owner, the creator or root may remove it (ipcs -c)"
        case EINVAL, EIDRM: return "it was already removed"
        default: return nil
        }
    }
}
