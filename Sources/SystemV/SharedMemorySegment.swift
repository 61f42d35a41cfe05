#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What a segment's header must say for a process to use its payload: whose layout, which version.
public struct SegmentLayout: Sendable, Equatable {
    /// Identifies the owner's layout; pick a value no other program would write (never 0).
    public var magic: UInt64
    /// Bumped whenever the payload layout changes, so old and new processes never share a segment.
    public var version: UInt32

    public init(magic: UInt64, version: UInt32) {
        self.magic = magic
        self.version = version
    }
}

/// A System V shared-memory segment, attached to this process, with a header (see
/// `SegmentHeader`) that names its layout and its creator. Detaches when released.
///
/// The payload is raw shared memory: callers guard it with a `SemaphoreSet` and
/// publish records with one store under the lock. `detach()` must not race with
/// uses of `payload`.
public final class SharedMemorySegment: @unchecked Sendable {
    /// The key the segment was created or found with.
    public let key: IPCKey
    /// The kernel's id for the segment, as `ipcs -m` lists it.
    public let id: Int32
    /// The first payload byte, 64-byte aligned.
    public let payload: UnsafeMutableRawPointer
    /// Bytes available at `payload`.
    public let payloadSize: Int

    private let base: UnsafeMutableRawPointer
    private let header: SegmentHeader
    private let attached = Atomic<Bool>(true)

    private init(key: IPCKey, id: Int32, base: UnsafeMutableRawPointer, header: SegmentHeader) {
        self.key = key
        self.id = id
        self.base = base
        self.header = header
        payload = base + SegmentHeader.size
        payloadSize = Int(header.payloadSize)
    }

    deinit { detach() }

    /// Header and payload: the size the segment was created with.
    public var totalSize: Int { SegmentHeader.size + payloadSize }

    /// The process that created the segment, as its header records it.
    public var creatorPID: Int32 { header.creatorPID }

    /// When the segment was created, in seconds since the epoch, as its header records it.
    public var creationTime: Int64 { header.creationTime }

    /// Creates a segment with a fresh header and a zero-filled payload, reclaiming a stale one
    /// left by a dead process; wraps `shmget(key, size, IPC_CREAT|IPC_EXCL|mode)` and `shmat`.
    ///
    /// - Parameters:
    ///   - key: the key other processes will attach with.
    ///   - payloadSize: bytes wanted after the header.
    ///   - layout: magic and version written to the header, and required of a segment to reclaim.
    ///   - mode: permission bits; the default lets only this user in.
    ///   - reclaimStale: when the key is taken by a segment of this layout whose creator is
    ///     gone and to which nothing is attached, remove it and create anew. Otherwise a taken
    ///     key throws `IPCError.inUse` (or `.headerMismatch` when it is not of this layout).
    public static func create(
        key: IPCKey, payloadSize: Int, layout: SegmentLayout, mode: Int32 = 0o600, reclaimStale: Bool = true
    ) throws -> SharedMemorySegment {
        guard payloadSize >= 0, payloadSize <= Int.max - SegmentHeader.size else {
            throw IPCError.invalidArgument("payload size \(payloadSize) is out of range")
        }
        guard mode & ~0o777 == 0 else {
            throw IPCError.invalidArgument("mode \(octal(mode)) has bits beyond 0777")
        }
        let size = SegmentHeader.size + payloadSize
        // Each round either creates, or finds the key taken and either throws or removes the
        // stale segment. A key taken again at once means another process is creating it right
        // now: after a few rounds report it rather than fight over the key.
        var lastError: Error = IPCError.inUse(key: key, creatorPID: 0)
        for _ in 0..<4 {
            let id: Int32
            do throws(SystemCallError) {
                id = try Syscall.shmget(key, size: size, flags: IPC_CREAT | IPC_EXCL | mode)
            } catch {
                guard error.errno == EEXIST else { throw error }
                lastError = error
                guard let existing = try Existing.inspect(key: key, layout: layout) else { continue }
                guard reclaimStale, existing.isStale else {
                    throw IPCError.inUse(key: key, creatorPID: existing.creatorPID)
                }
                do throws(SystemCallError) {
                    try Syscall.shmRemove(existing.id)
                } catch {
                    // Someone else removed it first: the next round will tell who won.
                    guard error.errno == EINVAL || error.errno == EIDRM else { throw error }
                }
                continue
            }
            return try stamp(key: key, id: id, payloadSize: payloadSize, layout: layout)
        }
        throw lastError
    }

    /// Attaches the segment with this key, refusing one whose header does not match `layout`;
    /// wraps `shmget(key, 0, 0)` and `shmat`.
    ///
    /// Throws `IPCError.headerMismatch`, naming what was found and what was expected, when the
    /// magic or version differ, or when the header claims more bytes than the segment has.
    public static func attach(key: IPCKey, layout: SegmentLayout) throws -> SharedMemorySegment {
        let id = try Syscall.shmget(key, size: 0, flags: 0)
        let segmentSize = Int(try Syscall.shmStat(id).shm_segsz)
        guard segmentSize >= SegmentHeader.size else {
            throw IPCError.headerMismatch(
                key: key, detail: "the segment has \(segmentSize) bytes, fewer than the \(SegmentHeader.size)-byte header")
        }
        let base = try Syscall.shmat(id, readOnly: false)
        let header = SegmentHeader(readingFrom: base)
        if let detail = header.mismatch(with: layout, segmentSize: segmentSize) {
            try? Syscall.shmdt(base)
            throw IPCError.headerMismatch(key: key, detail: detail)
        }
        return SharedMemorySegment(key: key, id: id, base: base, header: header)
    }

    /// Removes the segment with this key, if there is one; wraps `shmctl(id, IPC_RMID)`.
    ///
    /// - Returns: whether a segment was removed.
    @discardableResult
    public static func remove(key: IPCKey) throws -> Bool {
        do throws(SystemCallError) {
            let id = try Syscall.shmget(key, size: 0, flags: 0)
            try Syscall.shmRemove(id)
            return true
        } catch {
            // ENOENT: no such key; EINVAL/EIDRM: removed between the two calls.
            if error.errno == ENOENT || error.errno == EINVAL || error.errno == EIDRM { return false }
            throw error
        }
    }

    /// Detaches the segment from this process; wraps `shmdt`. Safe to call more than once.
    public func detach() {
        guard attached.exchange(false, ordering: .acquiringAndReleasing) else { return }
        // shmdt fails only for an address that is not attached, which the flag rules out.
        try? Syscall.shmdt(base)
    }

    /// Marks the segment for removal: it goes once the last process detaches; wraps `shmctl(id, IPC_RMID)`.
    public func remove() throws {
        try Syscall.shmRemove(id)
    }

    /// How many attachments the segment has, across all processes; wraps `shmctl(id, IPC_STAT)`.
    public func attachmentCount() throws -> Int {
        Int(try Syscall.shmStat(id).shm_nattch)
    }

    /// Attaches a segment this process just created and writes its header.
    private static func stamp(key: IPCKey, id: Int32, payloadSize: Int, layout: SegmentLayout) throws -> SharedMemorySegment {
        let base: UnsafeMutableRawPointer
        do {
            base = try Syscall.shmat(id, readOnly: false)
        } catch {
            // Unattached and unstamped, it would only block the key for the next try.
            try? Syscall.shmRemove(id)
            throw error
        }
        // A new segment is zero-filled by the kernel, so the payload needs no clearing.
        let header = SegmentHeader(
            magic: layout.magic, layoutVersion: layout.version, payloadSize: UInt64(payloadSize),
            creatorPID: Syscall.currentPID(), creationTime: Syscall.wallClockSeconds())
        header.write(to: base)
        return SharedMemorySegment(key: key, id: id, base: base, header: header)
    }
}

/// A segment found under a key we wanted to create: is it ours, and is its owner gone?
private struct Existing {
    let id: Int32
    let creatorPID: Int32
    /// Of our layout, its creator gone, nothing attached but our own look.
    let isStale: Bool

    /// Looks at the segment with this key; nil if it vanished meanwhile. Throws
    /// `IPCError.headerMismatch` when it is not of `layout`: it is never ours to remove.
    static func inspect(key: IPCKey, layout: SegmentLayout) throws -> Existing? {
        let id: Int32
        do throws(SystemCallError) {
            id = try Syscall.shmget(key, size: 0, flags: 0)
        } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
        do {
            let segmentSize = Int(try Syscall.shmStat(id).shm_segsz)
            guard segmentSize >= SegmentHeader.size else {
                throw IPCError.headerMismatch(
                    key: key, detail: "the segment has \(segmentSize) bytes, fewer than the \(SegmentHeader.size)-byte header")
            }
            let base = try Syscall.shmat(id, readOnly: true)
            defer { try? Syscall.shmdt(base) }
            let header = SegmentHeader(readingFrom: base)
            if let detail = header.mismatch(with: layout, segmentSize: segmentSize) {
                throw IPCError.headerMismatch(key: key, detail: detail)
            }
            // Counted while our own read-only look is still attached: 1 is just us.
            let attachments = Int(try Syscall.shmStat(id).shm_nattch)
            let stale = attachments <= 1 && !Syscall.processExists(header.creatorPID)
            return Existing(id: id, creatorPID: header.creatorPID, isStale: stale)
        } catch let error as SystemCallError where error.errno == EINVAL || error.errno == EIDRM {
            return nil
        }
    }
}
