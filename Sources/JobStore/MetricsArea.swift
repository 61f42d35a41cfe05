import CForkPoolShims

/// Counters and histograms every process adds to, in the segment right after the
/// header, so that `/metrics` gives the same numbers whichever front-end answers.
/// Updated with atomic adds, without the table's lock.
///
/// ```
///  offset  size            field
///       0     4            taskCount (names registered below, at most 64)
///      64  64 x 64         taskNames: length byte + up to 63 bytes each
///    4160  64 x 8 x 8      taskCounters: submitted, started, succeeded, failed, canceled, retried (2 spare)
///    8256  64 x 17 x 8     runHistogram per task: 16 bucket counts (not cumulative) + sum in microseconds
///   16960  64 x 17 x 8     queueWaitHistogram per task, the same shape
///   25664  16 x 16 x 8     http: requests by route index and status index
///   27712                  (free up to 32 KiB)
/// ```
/// A task beyond the 64th counts under the last index.
struct MetricsArea {
    static let size = 32 * 1024
    static let maximumTasks = 64
    static let counterCount = 8
    static let routeCount = 16
    static let statusCount = 16
    /// Upper bounds of the histogram buckets, in seconds; a 16th bucket takes the rest.
    static let bucketBounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
    static let histogramSlots = 17

    enum Counter: Int, CaseIterable {
        case submitted = 0, started, succeeded, failed, canceled, retried
    }

    let base: UnsafeMutableRawPointer

    private func word(_ offset: Int) -> UnsafeMutablePointer<UInt64> {
        (base + offset).assumingMemoryBound(to: UInt64.self)
    }

    var taskCount: Int { Int(min(UInt32(Self.maximumTasks), base.load(fromByteOffset: 0, as: UInt32.self))) }

    func taskName(_ index: Int) -> String {
        let entry = base + 64 + index * 64
        let length = Int(entry.load(as: UInt8.self))
        return String(decoding: UnsafeRawBufferPointer(start: entry + 1, count: min(63, length)), as: UTF8.self)
    }

    /// The index of `name`, adding it when there is room (under the table's lock only).
    func registerTask(_ name: String) {
        guard index(ofTask: name) == nil, taskCount < Self.maximumTasks else { return }
        let index = taskCount
        let bytes = Array(name.utf8.prefix(63))
        let entry = base + 64 + index * 64
        entry.storeBytes(of: UInt8(bytes.count), as: UInt8.self)
        for (position, byte) in bytes.enumerated() { entry.storeBytes(of: byte, toByteOffset: 1 + position, as: UInt8.self) }
        base.storeBytes(of: UInt32(index + 1), toByteOffset: 0, as: UInt32.self)
    }

    func index(ofTask name: String) -> Int? {
        (0..<taskCount).first { taskName($0) == name }
    }

    /// The counters' index for `name`: its own, or the last one for tasks that found no room.
    func slot(ofTask name: String) -> Int {
        index(ofTask: name) ?? (Self.maximumTasks - 1)
    }

    func add(_ counter: Counter, task: Int, _ amount: UInt64 = 1) {
        fp_atomic_add_u64(word(4160 + (task * Self.counterCount + counter.rawValue) * 8), amount)
    }

    func counter(_ counter: Counter, task: Int) -> UInt64 {
        fp_atomic_load_u64(word(4160 + (task * Self.counterCount + counter.rawValue) * 8))
    }

    func observeRun(task: Int, seconds: Double) { observe(at: 8256, task: task, seconds: seconds) }
    func observeQueueWait(task: Int, seconds: Double) { observe(at: 16960, task: task, seconds: seconds) }

    private func observe(at offset: Int, task: Int, seconds: Double) {
        let bucket = Self.bucketBounds.firstIndex { seconds <= $0 } ?? Self.bucketBounds.count
        let start = offset + task * Self.histogramSlots * 8
        fp_atomic_add_u64(word(start + bucket * 8), 1)
        fp_atomic_add_u64(word(start + 16 * 8), UInt64(max(0, seconds) * 1_000_000))
    }

    func runHistogram(task: Int) -> Histogram { histogram(at: 8256, task: task) }
    func queueWaitHistogram(task: Int) -> Histogram { histogram(at: 16960, task: task) }

    private func histogram(at offset: Int, task: Int) -> Histogram {
        let start = offset + task * Self.histogramSlots * 8
        let counts = (0..<16).map { fp_atomic_load_u64(word(start + $0 * 8)) }
        return Histogram(bounds: Self.bucketBounds, counts: counts,
                         sumSeconds: Double(fp_atomic_load_u64(word(start + 16 * 8))) / 1_000_000)
    }

    func countRequest(route: Int, status: Int) {
        guard (0..<Self.routeCount).contains(route), (0..<Self.statusCount).contains(status) else { return }
        fp_atomic_add_u64(word(25664 + (route * Self.statusCount + status) * 8), 1)
    }

    func requests(route: Int, status: Int) -> UInt64 {
        fp_atomic_load_u64(word(25664 + (route * Self.statusCount + status) * 8))
    }
}

/// A histogram as read: bucket counts (not cumulative), their upper bounds, and the sum.
public struct Histogram: Sendable {
    public let bounds: [Double]
    /// One more than `bounds`: the last counts everything above the last bound.
    public let counts: [UInt64]
    public let sumSeconds: Double
    public var count: UInt64 { counts.reduce(0, +) }
}

/// Every metric of the shared area, read at one moment.
public struct MetricsSnapshot: Sendable {
    public struct TaskMetrics: Sendable {
        public let name: String
        public let submitted, started, succeeded, failed, canceled, retried: UInt64
        public let runTime: Histogram
        public let queueWait: Histogram
    }
    public let tasks: [TaskMetrics]
    /// Requests by route index and status index (the service defines both lists).
    public let requests: [[UInt64]]
}
