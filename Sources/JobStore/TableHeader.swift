/// The first 4 KiB of the table (see `TableLayout`).
///
/// ```
///  offset  size  field
///       0    4   jobCapacity          4  queueCapacity      8  blockSize        12  blockCount
///      16    4   bucketCount         20  writerPID (non-zero while a mutation is under way)
///      24    8   slotsOffset         32  bucketsOffset      40  blockLinksOffset 48  blocksOffset
///      56    8   nextSequence        64  freeSlotHead (i32) 68  freeSlotCount    72  freeBlockHead
///      76    4   freeBlockCount      80  listHead (oldest)  84  listTail          88  finishedHead
///      92    4   finishedTail        96  queuedCount       100  draining        104  changeSequence (u64)
///     112   28   stateCounts[7]     140  recoveries        144  nextQueueSequence (u64)
///     152    8   submittedTotal     160  finishedTotal[succeeded, failed, canceled] (3 x u64)
///     184    8   evictedTotal       192  retriedTotal      200  supervisorPID    204  poolPID
///     208    8   poolStartedAt      216  workersMax        220  workersBusy      224  workersIdle
///     228    4   frontendCount      232  retentionMs (i64) 240  frontendRestarts 244  poolRestarts
///     256   84   queueHeads[21]     344  queueTails[21]
///     512 2048   frontends[64] x 32 bytes: pid, requests (u64), startedAt (i64 ms), waiting
/// ```
struct TableHeader {
    let fields: RawFields

    init(_ base: UnsafeMutableRawPointer) { fields = RawFields(base: base) }

    static let priorityLevels = 21
    static let maximumFrontends = 64
    static let frontendRecordSize = 32

    var jobCapacity: Int { Int(fields.get(0, as: UInt32.self)) }
    var queueCapacity: Int { Int(fields.get(4, as: UInt32.self)) }
    var blockSize: Int { Int(fields.get(8, as: UInt32.self)) }
    var blockCount: Int { Int(fields.get(12, as: UInt32.self)) }
    var bucketCount: Int { Int(fields.get(16, as: UInt32.self)) }

    func writeLayout(_ layout: TableLayout) {
        fields.set(0, UInt32(layout.jobCapacity))
        fields.set(4, UInt32(layout.queueCapacity))
        fields.set(8, UInt32(layout.blockSize))
        fields.set(12, UInt32(layout.blockCount))
        fields.set(16, UInt32(layout.bucketCount))
        fields.set(24, UInt64(layout.slotsOffset))
        fields.set(32, UInt64(layout.bucketsOffset))
        fields.set(40, UInt64(layout.blockLinksOffset))
        fields.set(48, UInt64(layout.blocksOffset))
    }

    var writerPID: Int32 { get { fields.get(20) } nonmutating set { fields.set(20, newValue) } }
    /// The seqlock's counter: odd while a lock holder may be changing the table (see
    /// `JobTable.readWithoutLock`; the memory orders are in CForkPoolShims).
    var changeSequence: UnsafeMutablePointer<UInt64> {
        fields.base.advanced(by: 104).assumingMemoryBound(to: UInt64.self)
    }
    var nextSequence: UInt64 { get { fields.get(56) } nonmutating set { fields.set(56, newValue) } }
    var freeSlotHead: Int32 { get { fields.get(64) } nonmutating set { fields.set(64, newValue) } }
    var freeSlotCount: UInt32 { get { fields.get(68) } nonmutating set { fields.set(68, newValue) } }
    var freeBlockHead: Int32 { get { fields.get(72) } nonmutating set { fields.set(72, newValue) } }
    var freeBlockCount: UInt32 { get { fields.get(76) } nonmutating set { fields.set(76, newValue) } }
    var listHead: Int32 { get { fields.get(80) } nonmutating set { fields.set(80, newValue) } }
    var listTail: Int32 { get { fields.get(84) } nonmutating set { fields.set(84, newValue) } }
    var finishedHead: Int32 { get { fields.get(88) } nonmutating set { fields.set(88, newValue) } }
    var finishedTail: Int32 { get { fields.get(92) } nonmutating set { fields.set(92, newValue) } }
    var queuedCount: UInt32 { get { fields.get(96) } nonmutating set { fields.set(96, newValue) } }
    var draining: UInt32 { get { fields.get(100) } nonmutating set { fields.set(100, newValue) } }
    func stateCount(_ state: JobState) -> UInt32 { fields.get(112 + Int(state.rawValue) * 4) }
    func setStateCount(_ state: JobState, _ value: UInt32) { fields.set(112 + Int(state.rawValue) * 4, value) }
    var recoveries: UInt32 { get { fields.get(140) } nonmutating set { fields.set(140, newValue) } }
    var nextQueueSequence: UInt64 { get { fields.get(144) } nonmutating set { fields.set(144, newValue) } }
    var submittedTotal: UInt64 { get { fields.get(152) } nonmutating set { fields.set(152, newValue) } }
    func finishedTotal(_ state: JobState) -> UInt64 {
        guard let index = Self.finishedIndex(state) else { return 0 }
        return fields.get(160 + index * 8)
    }
    func addFinished(_ state: JobState) {
        guard let index = Self.finishedIndex(state) else { return }
        fields.set(160 + index * 8, fields.get(160 + index * 8, as: UInt64.self) &+ 1)
    }
    private static func finishedIndex(_ state: JobState) -> Int? {
        switch state {
        case .succeeded: return 0
        case .failed: return 1
        case .canceled: return 2
        default: return nil
        }
    }
    var evictedTotal: UInt64 { get { fields.get(184) } nonmutating set { fields.set(184, newValue) } }
    var retriedTotal: UInt64 { get { fields.get(192) } nonmutating set { fields.set(192, newValue) } }
    var supervisorPID: Int32 { get { fields.get(200) } nonmutating set { fields.set(200, newValue) } }
    var poolPID: Int32 { get { fields.get(204) } nonmutating set { fields.set(204, newValue) } }
    var poolStartedAt: Int64 { get { fields.get(208) } nonmutating set { fields.set(208, newValue) } }
    var workersMax: UInt32 { get { fields.get(216) } nonmutating set { fields.set(216, newValue) } }
    var workersBusy: UInt32 { get { fields.get(220) } nonmutating set { fields.set(220, newValue) } }
    var workersIdle: UInt32 { get { fields.get(224) } nonmutating set { fields.set(224, newValue) } }
    var frontendCount: UInt32 { get { fields.get(228) } nonmutating set { fields.set(228, newValue) } }
    var retentionMs: Int64 { get { fields.get(232) } nonmutating set { fields.set(232, newValue) } }
    var frontendRestarts: UInt32 { get { fields.get(240) } nonmutating set { fields.set(240, newValue) } }
    var poolRestarts: UInt32 { get { fields.get(244) } nonmutating set { fields.set(244, newValue) } }

    func queueHead(_ level: Int) -> Int32 { fields.get(256 + level * 4) }
    func setQueueHead(_ level: Int, _ value: Int32) { fields.set(256 + level * 4, value) }
    func queueTail(_ level: Int) -> Int32 { fields.get(344 + level * 4) }
    func setQueueTail(_ level: Int, _ value: Int32) { fields.set(344 + level * 4, value) }

    func frontend(_ index: Int) -> FrontendRecord {
        FrontendRecord(fields: RawFields(base: fields.base + 512 + index * Self.frontendRecordSize))
    }
}

/// One front-end process as the table knows it.
struct FrontendRecord {
    let fields: RawFields
    var pid: Int32 { get { fields.get(0) } nonmutating set { fields.set(0, newValue) } }
    var waiting: UInt32 { get { fields.get(4) } nonmutating set { fields.set(4, newValue) } }
    var requests: UInt64 { get { fields.get(8) } nonmutating set { fields.set(8, newValue) } }
    var startedAt: Int64 { get { fields.get(16) } nonmutating set { fields.set(16, newValue) } }
}
