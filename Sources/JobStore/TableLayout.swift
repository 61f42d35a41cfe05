/// Where everything lives in the job table's shared memory.
///
/// ```
///  +------------------------------+ 0
///  | TableHeader          4 KiB   |  capacities, counters, list and queue heads,
///  |                              |  the process registry, the writer mark
///  +------------------------------+ metricsOffset
///  | MetricsArea         32 KiB   |  per-task counters and histograms, HTTP
///  |                              |  requests: atomic adds, no lock
///  +------------------------------+ slotsOffset
///  | JobSlot x jobCapacity        |  384 bytes each: one job, found by index
///  +------------------------------+ bucketsOffset
///  | Int32 x bucketCount          |  idempotency index: hash -> first slot of chain
///  +------------------------------+ blockLinksOffset
///  | Int32 x blockCount           |  next block of a chain, or -1
///  +------------------------------+ blocksOffset
///  | blockSize bytes x blockCount |  job inputs, results and error messages,
///  |                              |  stored as chains of blocks
///  +------------------------------+ totalSize
/// ```
///
/// Slots and blocks are the primary data. Everything else (free lists, the
/// queue, the creation and finish lists, the idempotency index and the counts)
/// is derived from the slots and can be rebuilt from them: see `JobTable.recover`.
public struct TableLayout: Equatable, Sendable {
    public static let headerSize = 4096
    public static let slotSize = 384
    public static let defaultBlockSize = 128

    public let jobCapacity: Int
    public let queueCapacity: Int
    public let blockSize: Int
    public let blockCount: Int
    public let bucketCount: Int

    public var metricsOffset: Int { Self.headerSize }
    public var slotsOffset: Int { Self.headerSize + MetricsArea.size }
    public var bucketsOffset: Int { align(slotsOffset + jobCapacity * Self.slotSize) }
    public var blockLinksOffset: Int { align(bucketsOffset + bucketCount * 4) }
    public var blocksOffset: Int { align(blockLinksOffset + blockCount * 4) }
    public var totalSize: Int { align(blocksOffset + blockCount * blockSize) }

    /// - Parameters:
    ///   - jobCapacity: jobs the table holds, finished ones included.
    ///   - queueCapacity: jobs that may wait at once.
    ///   - dataBytes: room for inputs, results and error messages.
    public init(jobCapacity: Int, queueCapacity: Int, dataBytes: Int, blockSize: Int = TableLayout.defaultBlockSize) {
        self.jobCapacity = jobCapacity
        self.queueCapacity = queueCapacity
        self.blockSize = blockSize
        self.blockCount = max(1, dataBytes / blockSize)
        var buckets = 16
        while buckets < jobCapacity * 2 { buckets <<= 1 }
        self.bucketCount = buckets
    }

    /// Checks the numbers are within what the table's 32-bit indices can address.
    public func validate() throws(JobStoreError) {
        guard jobCapacity >= 1, jobCapacity <= 50_000_000 else {
            throw .invalidLayout("job capacity must be between 1 and 50000000, got \(jobCapacity)")
        }
        guard queueCapacity >= 1, queueCapacity <= jobCapacity else {
            throw .invalidLayout("queue capacity must be between 1 and the job capacity (\(jobCapacity)), got \(queueCapacity)")
        }
        guard blockSize >= 16, blockSize % 8 == 0 else { throw .invalidLayout("block size must be a multiple of 8, at least 16") }
        guard blockCount < Int(Int32.max) else { throw .invalidLayout("data area too large: \(blockCount) blocks") }
    }

    private func align(_ offset: Int) -> Int { (offset + 63) & ~63 }
}
