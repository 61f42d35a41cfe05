import SystemV

/// Memory several processes map: a System V segment, or a file with `--state-file`.
public protocol SharedRegion: AnyObject {
    /// The first usable byte, 64-byte aligned.
    var payload: UnsafeMutableRawPointer { get }
    var payloadSize: Int { get }
    /// Everything mapped, headers included.
    var totalSize: Int { get }
    /// Unmaps it from this process.
    func detach()
    /// Ends it for everyone: a segment is removed; a state file is kept (that is its point) and flushed.
    func remove() throws
}

extension SharedMemorySegment: SharedRegion {}
