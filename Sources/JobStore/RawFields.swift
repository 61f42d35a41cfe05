/// Typed loads and stores at fixed offsets of a raw record in shared memory.
/// Every field is naturally aligned, so each load and store is a single instruction.
struct RawFields {
    let base: UnsafeMutableRawPointer

    @inline(__always)
    func get<T: BitwiseCopyable>(_ offset: Int, as type: T.Type = T.self) -> T {
        base.load(fromByteOffset: offset, as: T.self)
    }

    @inline(__always)
    func set<T: BitwiseCopyable>(_ offset: Int, _ value: T) {
        base.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }

    /// Bytes `offset..<offset+length`, copied out.
    func bytes(_ offset: Int, length: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: base + offset, count: length))
    }

    /// Writes `bytes` at `offset`, at most `capacity` of them; returns how many were written.
    @discardableResult
    func setBytes(_ offset: Int, _ bytes: some Collection<UInt8>, capacity: Int) -> Int {
        let count = min(bytes.count, capacity)
        var index = 0
        for byte in bytes.prefix(count) {
            base.storeBytes(of: byte, toByteOffset: offset + index, as: UInt8.self)
            index += 1
        }
        return count
    }
}
