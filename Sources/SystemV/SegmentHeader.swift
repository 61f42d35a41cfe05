import Synchronization

/// The header this module writes at the start of every segment it creates, so that a
/// process attaching later can tell a segment of its own layout from a stranger's or
/// an older version's, and tell whether the process that made it is still alive.
///
/// ```
///  offset  size  field
///  ------  ----  -----------------------------------------------------------------
///       0     8  magic          the owner's layout; 0 while the header is unwritten
///       8     4  layoutVersion  bumped whenever the payload layout changes
///      12     4  headerSize     64: lets a later version grow the header
///      16     8  payloadSize    bytes after the header that belong to the payload
///      24     4  creatorPID     process that created the segment (stale-reclaim test)
///      28     4  (zero)
///      32     8  creationTime   seconds since the epoch
///      40    24  (zero)
///      64     …  payload        64-byte aligned, since shmat returns a page boundary
/// ```
///
/// All fields are native-endian: a segment never leaves the machine.
struct SegmentHeader: Equatable {
    static let size = 64

    private enum Offset {
        static let magic = 0
        static let layoutVersion = 8
        static let headerSize = 12
        static let payloadSize = 16
        static let creatorPID = 24
        static let creationTime = 32
    }

    var magic: UInt64
    var layoutVersion: UInt32
    var headerSize: UInt32
    var payloadSize: UInt64
    var creatorPID: Int32
    var creationTime: Int64

    init(magic: UInt64, layoutVersion: UInt32, headerSize: UInt32 = UInt32(SegmentHeader.size),
         payloadSize: UInt64, creatorPID: Int32, creationTime: Int64) {
        self.magic = magic
        self.layoutVersion = layoutVersion
        self.headerSize = headerSize
        self.payloadSize = payloadSize
        self.creatorPID = creatorPID
        self.creationTime = creationTime
    }

    /// Reads the header at the start of a segment.
    init(readingFrom base: UnsafeRawPointer) {
        magic = base.load(fromByteOffset: Offset.magic, as: UInt64.self)
        // Pairs with the fence in write(to:): fields read after a nonzero magic are complete.
        atomicMemoryFence(ordering: .acquiring)
        layoutVersion = base.load(fromByteOffset: Offset.layoutVersion, as: UInt32.self)
        headerSize = base.load(fromByteOffset: Offset.headerSize, as: UInt32.self)
        payloadSize = base.load(fromByteOffset: Offset.payloadSize, as: UInt64.self)
        creatorPID = base.load(fromByteOffset: Offset.creatorPID, as: Int32.self)
        creationTime = base.load(fromByteOffset: Offset.creationTime, as: Int64.self)
    }

    /// Writes the header at the start of a new (zero-filled) segment.
    ///
    /// The magic goes last, behind a fence: a process attaching meanwhile sees magic 0,
    /// an unwritten header, never a magic with half the fields behind it.
    func write(to base: UnsafeMutableRawPointer) {
        base.storeBytes(of: layoutVersion, toByteOffset: Offset.layoutVersion, as: UInt32.self)
        base.storeBytes(of: headerSize, toByteOffset: Offset.headerSize, as: UInt32.self)
        base.storeBytes(of: payloadSize, toByteOffset: Offset.payloadSize, as: UInt64.self)
        base.storeBytes(of: creatorPID, toByteOffset: Offset.creatorPID, as: Int32.self)
        base.storeBytes(of: creationTime, toByteOffset: Offset.creationTime, as: Int64.self)
        atomicMemoryFence(ordering: .releasing)
        base.storeBytes(of: magic, toByteOffset: Offset.magic, as: UInt64.self)
    }

    /// Why this header does not belong to `layout` in a segment of `segmentSize` bytes, or nil if it does.
    func mismatch(with layout: SegmentLayout, segmentSize: Int) -> String? {
        if magic != layout.magic || layoutVersion != layout.version {
            let found = magic == 0
                ? "an unwritten header (magic 0; its creator died while creating it, or it is not ours)"
                : "magic \(hex64(magic)) version \(layoutVersion)"
            return "found \(found), expected magic \(hex64(layout.magic)) version \(layout.version)"
        }
        if headerSize != UInt32(Self.size) {
            return "header size \(headerSize), expected \(Self.size)"
        }
        if payloadSize > UInt64(Int.max - Self.size) || Int(headerSize) + Int(payloadSize) > segmentSize {
            return "header records \(headerSize) + \(payloadSize) bytes but the segment has only \(segmentSize)"
        }
        return nil
    }
}

/// `0x` and sixteen hexadecimal digits.
func hex64(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}
