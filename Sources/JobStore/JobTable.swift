#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import SystemV

/// The job table in shared memory, guarded by one System V semaphore.
///
/// Every change takes the semaphore with `SEM_UNDO`, so a process killed while
/// holding it cannot block the others; reading one job skips it while nothing is
/// changing (`readWithoutLock`). A process killed in the middle of a change
/// leaves `writerPID` set; the next holder sees it and rebuilds every derived
/// structure from the slots (`recover`), so the table is consistent again
/// whichever instruction the dead process stopped at.
public final class JobTable: @unchecked Sendable {
    /// The segment layout this module writes: "FPJOBTBL", version 2 (2 added the metrics area).
    public static let segmentLayout = SegmentLayout(magic: 0x4650_4A4F_4254_424C, version: 2)

    public let layout: TableLayout
    let memory: UnsafeMutableRawPointer
    let region: SharedRegion
    let semaphores: SemaphoreSet
    let header: TableHeader
    let metrics: MetricsArea
    let blockLinks: UnsafeMutablePointer<Int32>
    let blocks: UnsafeMutableRawPointer
    let buckets: UnsafeMutablePointer<Int32>

    private init(region: SharedRegion, semaphores: SemaphoreSet, layout: TableLayout) {
        self.region = region
        self.semaphores = semaphores
        self.layout = layout
        self.memory = region.payload
        self.header = TableHeader(memory)
        self.metrics = MetricsArea(base: memory + layout.metricsOffset)
        self.blockLinks = (memory + layout.blockLinksOffset).bindMemory(to: Int32.self, capacity: layout.blockCount)
        self.blocks = memory + layout.blocksOffset
        self.buckets = (memory + layout.bucketsOffset).bindMemory(to: Int32.self, capacity: layout.bucketCount)
    }

    /// Creates the segment and the semaphore set under `key` and lays out an empty table.
    ///
    /// A stale segment of a dead server (its creator gone, nothing attached) is reclaimed,
    /// together with the semaphore set under the same key.
    public static func create(key: IPCKey, layout: TableLayout, retentionMs: Int64) throws -> JobTable {
        try layout.validate()
        let segment = try SharedMemorySegment.create(key: key, payloadSize: layout.totalSize, layout: segmentLayout)
        // A semaphore set left by a dead server with the same key goes with its segment.
        _ = try? SemaphoreSet.remove(key: key)
        let semaphores: SemaphoreSet
        do {
            semaphores = try SemaphoreSet.create(key: key)
        } catch {
            try? segment.remove()
            throw error
        }
        let table = JobTable(region: segment, semaphores: semaphores, layout: layout)
        table.header.writeLayout(layout)
        table.header.retentionMs = retentionMs
        table.formatEmpty()
        return table
    }

    /// Opens the table kept in a state file, or lays out a new one there; the
    /// semaphore set under `key` guards it as usual.
    ///
    /// A table found in the file keeps its own capacities. Its processes are all
    /// gone, so anything they left half-done is repaired before it is used.
    /// - Returns: the table and whether the file already held one.
    public static func openStateFile(path: String, key: IPCKey, layout: TableLayout, retentionMs: Int64) throws -> (JobTable, reopened: Bool) {
        try layout.validate()
        let (file, existed) = try StateFile.open(path: path, payloadSize: layout.totalSize, version: segmentLayout.version, lock: true)
        _ = try? SemaphoreSet.remove(key: key)
        let semaphores = try SemaphoreSet.create(key: key)
        if !existed {
            let table = JobTable(region: file, semaphores: semaphores, layout: layout)
            table.header.writeLayout(layout)
            table.header.retentionMs = retentionMs
            table.formatEmpty()
            return (table, false)
        }
        do {
            let table = JobTable(region: file, semaphores: semaphores, layout: try storedLayout(in: file))
            try table.locked {
                // Every process of the last run is gone: whatever they left marked is rebuilt.
                table.recover()
                table.header.retentionMs = retentionMs
                table.header.draining = 0
                for index in 0..<TableHeader.maximumFrontends {
                    table.header.frontend(index).pid = 0
                    table.header.frontend(index).waiting = 0
                }
            }
            return (table, true)
        } catch {
            try? semaphores.remove()
            throw error
        }
    }

    /// Attaches to the table a running server keeps in the state file `path`.
    public static func attach(stateFile path: String, key: IPCKey) throws -> JobTable {
        let (file, existed) = try StateFile.open(path: path, payloadSize: 0, version: segmentLayout.version, lock: false)
        guard existed else { throw JobStoreError.corruptHeader("\(path) holds no job table") }
        let semaphores = try SemaphoreSet.attach(key: key)
        return JobTable(region: file, semaphores: semaphores, layout: try storedLayout(in: file))
    }

    /// The capacities a table already in `region` was laid out with.
    private static func storedLayout(in region: SharedRegion) throws -> TableLayout {
        let header = TableHeader(region.payload)
        let layout = TableLayout(jobCapacity: header.jobCapacity, queueCapacity: header.queueCapacity,
                                 dataBytes: header.blockCount * header.blockSize, blockSize: header.blockSize)
        guard layout.bucketCount == header.bucketCount, layout.totalSize <= region.payloadSize else {
            throw JobStoreError.corruptHeader("capacities do not fit a table of \(region.payloadSize) bytes")
        }
        try layout.validate()
        return layout
    }

    /// Attaches to the table a running server created under `key`.
    public static func attach(key: IPCKey) throws -> JobTable {
        let segment = try SharedMemorySegment.attach(key: key, layout: segmentLayout)
        let semaphores = try SemaphoreSet.attach(key: key)
        return JobTable(region: segment, semaphores: semaphores, layout: try storedLayout(in: segment))
    }

    /// Removes the segment (a state file is flushed and kept) and the semaphore set;
    /// the memory stays valid until every process detaches.
    public func destroy() {
        try? region.remove()
        try? semaphores.remove()
    }

    /// Detaches this process from the segment.
    public func detach() {
        region.detach()
    }

    /// The System V key of the semaphore set (and of the segment, without a state file).
    public var key: IPCKey { semaphores.key }

    /// Bytes of the whole segment, header included.
    public var segmentBytes: Int { region.totalSize }

    /// Starts writing a state file's dirty pages back (no-op for a segment).
    public func flushStateFile() {
        (region as? StateFile)?.flush(wait: false)
    }

    // MARK: Locking

    /// Runs `body` holding the table's semaphore; repairs the table first if the
    /// previous holder died inside its change.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try semaphores.lock()
        defer { try? semaphores.unlock() }
        fp_seqlock_write_begin(header.changeSequence)
        defer { fp_seqlock_write_end(header.changeSequence) }
        if header.writerPID != 0 {
            recover()
        }
        header.writerPID = getpid()
        defer { header.writerPID = 0 }
        return try body()
    }

    /// Reads without the semaphore when no change is under way, else under it.
    ///
    /// `body` copies what it needs out of the table. The copy counts only if the
    /// change sequence was even before it and unchanged after it (a seqlock): then no
    /// holder changed anything meanwhile. `body` may see a half-changed table before
    /// that check, so it must not trust what it reads: chains and lengths are bounded,
    /// unknown values map to defaults. A holder that died left the sequence odd, so
    /// readers take the lock, whose next holder repairs the table.
    func readWithoutLock<T>(_ body: () -> T) throws -> T {
        for _ in 0..<Self.optimisticAttempts {
            let before = fp_seqlock_read_begin(header.changeSequence)
            guard before & 1 == 0 else { break }
            let value = body()
            if fp_seqlock_read_valid(header.changeSequence, before) != 0 {
                readsWithoutLock += 1
                return value
            }
        }
        return try locked(body)
    }

    /// Copies tried before giving up and taking the lock: writes are short, so a
    /// second try usually finds the table still.
    static let optimisticAttempts = 2

    /// Reads this process answered without the semaphore (for tests and the benchmark).
    public private(set) var readsWithoutLock = 0

    /// Runs `body` inside the table's lock, marked as a change under way, as every
    /// operation does. For tools and tests that must act at that very moment: the
    /// harness is killed here to show a dead holder blocks no one and corrupts nothing.
    public func whileLocked(_ body: () throws -> Void) throws {
        try locked(body)
    }

    // MARK: Slots

    func slot(_ index: Int32) -> JobSlot {
        JobSlot(fields: RawFields(base: memory + layout.slotsOffset + Int(index) * TableLayout.slotSize), index: index)
    }

    /// The slot `id` names, if it still holds that job.
    func slot(for id: JobID) -> JobSlot? {
        guard Int(id.slot) < layout.jobCapacity else { return nil }
        let slot = slot(Int32(id.slot))
        guard slot.state != .free, slot.generation == id.generation, slot.secret == id.secret else { return nil }
        return slot
    }

    func id(of slot: JobSlot) -> JobID {
        JobID(slot: UInt32(slot.index), generation: slot.generation, secret: slot.secret)
    }

    /// An empty table: every slot and block free.
    private func formatEmpty() {
        for index in 0..<Int32(layout.jobCapacity) {
            let slot = slot(index)
            slot.clear()
            slot.listNext = index + 1 < Int32(layout.jobCapacity) ? index + 1 : -1
        }
        header.freeSlotHead = 0
        header.freeSlotCount = UInt32(layout.jobCapacity)
        for index in 0..<layout.blockCount {
            blockLinks[index] = index + 1 < layout.blockCount ? Int32(index + 1) : -1
        }
        header.freeBlockHead = 0
        header.freeBlockCount = UInt32(layout.blockCount)
        for index in 0..<layout.bucketCount { buckets[index] = -1 }
        header.listHead = -1
        header.listTail = -1
        header.finishedHead = -1
        header.finishedTail = -1
        for level in 0..<TableHeader.priorityLevels {
            header.setQueueHead(level, -1)
            header.setQueueTail(level, -1)
        }
        header.nextSequence = 1
        header.nextQueueSequence = 1
    }

    // MARK: Blocks

    func blocksNeeded(for length: Int) -> Int {
        (length + layout.blockSize - 1) / layout.blockSize
    }

    /// Stores `bytes` in a chain taken from the free stack; the caller checked there is room.
    func storeChain(_ bytes: [UInt8]) -> BlockChain {
        let count = blocksNeeded(for: bytes.count)
        guard count > 0 else { return .empty }
        precondition(Int(header.freeBlockCount) >= count, "storeChain without room")
        // The chain is the first `count` blocks of the free stack, already linked in order.
        let head = header.freeBlockHead
        var block = head
        var offset = 0
        bytes.withUnsafeBytes { source in
            for position in 0..<count {
                let length = min(layout.blockSize, bytes.count - offset)
                (blocks + Int(block) * layout.blockSize).copyMemory(from: source.baseAddress! + offset, byteCount: length)
                offset += length
                if position == count - 1 {
                    header.freeBlockHead = blockLinks[Int(block)]
                    blockLinks[Int(block)] = -1
                } else {
                    block = blockLinks[Int(block)]
                }
            }
        }
        header.freeBlockCount -= UInt32(count)
        return BlockChain(head: head, length: bytes.count)
    }

    func readChain(_ chain: BlockChain) -> [UInt8] {
        guard chain.head >= 0, chain.length > 0 else { return [] }
        // A length read from shared memory is never trusted beyond the data area's size.
        let total = min(chain.length, layout.blockCount * layout.blockSize)
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var block = chain.head
            var offset = 0
            while offset < total && block >= 0 && Int(block) < layout.blockCount {
                let length = min(layout.blockSize, total - offset)
                UnsafeMutableRawPointer(buffer.baseAddress! + offset)
                    .copyMemory(from: blocks + Int(block) * layout.blockSize, byteCount: length)
                offset += length
                block = blockLinks[Int(block)]
            }
            initialized = offset
        }
    }

    /// Returns a chain's blocks to the free stack.
    func releaseChain(_ chain: BlockChain) {
        guard chain.head >= 0 else { return }
        let count = blocksNeeded(for: chain.length)
        var last = chain.head
        for _ in 1..<max(count, 1) { last = blockLinks[Int(last)] }
        blockLinks[Int(last)] = header.freeBlockHead
        header.freeBlockHead = chain.head
        header.freeBlockCount += UInt32(max(count, 1))
    }
}

/// Unix time in milliseconds.
public func wallClockMilliseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}
