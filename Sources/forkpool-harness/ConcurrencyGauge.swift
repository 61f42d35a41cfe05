import SystemV

/// Counts tasks running at once, across processes: a System V segment holding
/// `running` and `maximum`, guarded by a semaphore. Tasks call `enter` and `leave`.
///
/// ```
///  payload offset  size  field
///               0     8  running   tasks between enter and leave now
///               8     8  maximum   the most there ever were
/// ```
final class ConcurrencyGauge: @unchecked Sendable {
    static let layout = SegmentLayout(magic: 0x4650_4741_5547_4531, version: 1)  // "FPGAUGE1"

    private let semaphores: SemaphoreSet
    private let segment: SharedMemorySegment
    private var removed = false

    init(key: IPCKey) throws {
        semaphores = try SemaphoreSet.create(key: key)
        do {
            segment = try SharedMemorySegment.create(key: key, payloadSize: 16, layout: Self.layout)
        } catch {
            try? semaphores.remove()
            throw error
        }
    }

    func enter() throws {
        try semaphores.withLock {
            let running = segment.payload.load(fromByteOffset: 0, as: Int64.self) + 1
            segment.payload.storeBytes(of: running, toByteOffset: 0, as: Int64.self)
            if running > segment.payload.load(fromByteOffset: 8, as: Int64.self) {
                segment.payload.storeBytes(of: running, toByteOffset: 8, as: Int64.self)
            }
        }
    }

    func leave() throws {
        try semaphores.withLock {
            let running = segment.payload.load(fromByteOffset: 0, as: Int64.self) - 1
            segment.payload.storeBytes(of: running, toByteOffset: 0, as: Int64.self)
        }
    }

    func maximum() throws -> Int64 {
        try semaphores.withLock { segment.payload.load(fromByteOffset: 8, as: Int64.self) }
    }

    func reset() throws {
        try semaphores.withLock {
            segment.payload.storeBytes(of: Int64(0), toByteOffset: 0, as: Int64.self)
            segment.payload.storeBytes(of: Int64(0), toByteOffset: 8, as: Int64.self)
        }
    }

    /// Removes the semaphore set and the segment; safe to call twice.
    func remove() {
        guard !removed else { return }
        removed = true
        try? segment.remove()
        segment.detach()
        try? semaphores.remove()
    }
}
