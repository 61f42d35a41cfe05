/// A job's state as stored.
public enum JobState: UInt8, CaseIterable, Sendable {
    case free = 0, queued = 1, running = 2, succeeded = 3, failed = 4, canceled = 5

    /// The name the API uses.
    public var name: String {
        switch self {
        case .free: return "free"
        case .queued: return "queued"
        case .running: return "running"
        case .succeeded: return "succeeded"
        case .failed: return "failed"
        case .canceled: return "canceled"
        }
    }

    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.name == name && $0 != .free }) else { return nil }
        self = state
    }

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .canceled }
}

/// Why a job failed or was canceled, as stored (one byte).
public enum JobErrorCode: UInt8, CaseIterable, Sendable {
    case none = 0, taskError, timeout, workerCrashed, resultTooLarge, canceled, shutdown, interrupted, startFailed, protocolError

    public var name: String {
        switch self {
        case .none: return ""
        case .taskError: return "task_error"
        case .timeout: return "timeout"
        case .workerCrashed: return "worker_crashed"
        case .resultTooLarge: return "result_too_large"
        case .canceled: return "canceled"
        case .shutdown: return "shutdown"
        case .interrupted: return "interrupted"
        case .startFailed: return "start_failed"
        case .protocolError: return "protocol_error"
        }
    }

    public init(name: String) {
        self = Self.allCases.first { $0.name == name && $0 != .none } ?? .protocolError
    }
}

/// One job's record (see `TableLayout`); 384 bytes.
///
/// ```
///  offset size field                  offset size field
///       0    4 generation                  4    1 state
///       5    1 priority (i8)               6    1 attempts
///       7    1 maxAttempts                 8    8 secret (random part of the id)
///      16    8 sequence (creation order)  24    8 createdAt (Unix ms)
///      32    8 startedAt (0 = never)      40    8 finishedAt (0 = not finished)
///      48    4 timeoutMs                  52    4 workerPID
///      56    4 inputHead                  60    4 inputLength
///      64    4 resultHead                 68    4 resultLength
///      72    4 errorHead                  76    4 errorLength
///      80    4 queuePrev                  84    4 queueNext
///      88    4 listPrev                   92    4 listNext
///      96    4 idempotencyNext           100    1 errorCode
///     101    1 flags                     102    1 taskNameLength
///     103    1 progressMessageLength     104    8 queueSequence
///     112    8 progressPercent (f64)     120   32 inputHash (SHA-256 of the canonical input)
///     152   32 idempotencyKeyHash        184   64 taskName
///     248  128 progressMessage           376    4 finishedPrev
///     380    4 finishedNext
/// ```
///
/// A slot changes state with one store of the state byte, after every field
/// the new state relies on has been written.
struct JobSlot {
    let fields: RawFields
    let index: Int32

    static let taskNameCapacity = 64
    static let progressMessageCapacity = 128

    struct Flags: OptionSet {
        let rawValue: UInt8
        static let hasIdempotencyKey = Flags(rawValue: 1)
        static let hasProgress = Flags(rawValue: 2)
    }

    var generation: UInt32 { get { fields.get(0) } nonmutating set { fields.set(0, newValue) } }
    var state: JobState {
        get { JobState(rawValue: fields.get(4)) ?? .free }
        nonmutating set { fields.set(4, newValue.rawValue) }
    }
    var priority: Int8 { get { fields.get(5) } nonmutating set { fields.set(5, newValue) } }
    var attempts: UInt8 { get { fields.get(6) } nonmutating set { fields.set(6, newValue) } }
    var maxAttempts: UInt8 { get { fields.get(7) } nonmutating set { fields.set(7, newValue) } }
    var secret: UInt64 { get { fields.get(8) } nonmutating set { fields.set(8, newValue) } }
    var sequence: UInt64 { get { fields.get(16) } nonmutating set { fields.set(16, newValue) } }
    var createdAt: Int64 { get { fields.get(24) } nonmutating set { fields.set(24, newValue) } }
    var startedAt: Int64 { get { fields.get(32) } nonmutating set { fields.set(32, newValue) } }
    var finishedAt: Int64 { get { fields.get(40) } nonmutating set { fields.set(40, newValue) } }
    var timeoutMs: UInt32 { get { fields.get(48) } nonmutating set { fields.set(48, newValue) } }
    var workerPID: Int32 { get { fields.get(52) } nonmutating set { fields.set(52, newValue) } }
    var input: BlockChain {
        get { BlockChain(head: fields.get(56), length: Int(fields.get(60, as: UInt32.self))) }
        nonmutating set { fields.set(56, newValue.head); fields.set(60, UInt32(newValue.length)) }
    }
    var result: BlockChain {
        get { BlockChain(head: fields.get(64), length: Int(fields.get(68, as: UInt32.self))) }
        nonmutating set { fields.set(64, newValue.head); fields.set(68, UInt32(newValue.length)) }
    }
    var error: BlockChain {
        get { BlockChain(head: fields.get(72), length: Int(fields.get(76, as: UInt32.self))) }
        nonmutating set { fields.set(72, newValue.head); fields.set(76, UInt32(newValue.length)) }
    }
    var queuePrev: Int32 { get { fields.get(80) } nonmutating set { fields.set(80, newValue) } }
    var queueNext: Int32 { get { fields.get(84) } nonmutating set { fields.set(84, newValue) } }
    var listPrev: Int32 { get { fields.get(88) } nonmutating set { fields.set(88, newValue) } }
    var listNext: Int32 { get { fields.get(92) } nonmutating set { fields.set(92, newValue) } }
    var idempotencyNext: Int32 { get { fields.get(96) } nonmutating set { fields.set(96, newValue) } }
    var errorCode: JobErrorCode {
        get { JobErrorCode(rawValue: fields.get(100)) ?? .protocolError }
        nonmutating set { fields.set(100, newValue.rawValue) }
    }
    var flags: Flags { get { Flags(rawValue: fields.get(101)) } nonmutating set { fields.set(101, newValue.rawValue) } }
    var queueSequence: UInt64 { get { fields.get(104) } nonmutating set { fields.set(104, newValue) } }
    var progressPercent: Double { get { fields.get(112) } nonmutating set { fields.set(112, newValue) } }
    var inputHash: [UInt8] { get { fields.bytes(120, length: 32) } nonmutating set { fields.setBytes(120, newValue, capacity: 32) } }
    var idempotencyKeyHash: [UInt8] {
        get { fields.bytes(152, length: 32) }
        nonmutating set { fields.setBytes(152, newValue, capacity: 32) }
    }
    var taskName: String {
        get { String(decoding: fields.bytes(184, length: min(Int(fields.get(102, as: UInt8.self)), Self.taskNameCapacity)), as: UTF8.self) }
        nonmutating set {
            let written = fields.setBytes(184, newValue.utf8, capacity: Self.taskNameCapacity)
            fields.set(102, UInt8(written))
        }
    }
    var progressMessage: String {
        get {
            let length = min(Int(fields.get(103, as: UInt8.self)), Self.progressMessageCapacity)
            return String(decoding: fields.bytes(248, length: length), as: UTF8.self)
        }
        nonmutating set {
            let written = fields.setBytes(248, truncatedUTF8(newValue, to: Self.progressMessageCapacity),
                                          capacity: Self.progressMessageCapacity)
            fields.set(103, UInt8(written))
        }
    }
    var finishedPrev: Int32 { get { fields.get(376) } nonmutating set { fields.set(376, newValue) } }
    var finishedNext: Int32 { get { fields.get(380) } nonmutating set { fields.set(380, newValue) } }

    /// Clears every field but the generation.
    func clear() {
        let generation = self.generation
        fields.base.initializeMemory(as: UInt8.self, repeating: 0, count: TableLayout.slotSize)
        self.generation = generation
        for offset in [56, 64, 72, 80, 84, 88, 92, 96, 376, 380] { fields.set(offset, Int32(-1)) }
    }
}

/// A payload stored as a chain of blocks; head -1 means none.
struct BlockChain: Equatable {
    var head: Int32
    var length: Int
    static let empty = BlockChain(head: -1, length: 0)
}

/// The longest prefix of `text` of at most `limit` UTF-8 bytes that does not cut a character.
func truncatedUTF8(_ text: String, to limit: Int) -> [UInt8] {
    let bytes = Array(text.utf8)
    guard bytes.count > limit else { return bytes }
    var end = limit
    // Back off continuation bytes (10xxxxxx) so a multi-byte character is not cut in half.
    while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
    return Array(bytes[..<end])
}
