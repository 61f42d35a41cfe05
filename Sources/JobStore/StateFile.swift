#if canImport(Glibc)
import Glibc
#endif
import SystemV

/// The job table in a file mapped `MAP_SHARED`, instead of a System V segment,
/// so that it outlives the server: a restart (a container's, with a volume)
/// finds queued and finished jobs where it left them.
///
/// ```
///  0       8        12       16                24            64
///  | magic | version | (zero) | payload size   | (zero)       | payload (the table) ...
/// ```
/// The file is locked with `flock` so two servers never share one.
public final class StateFile: SharedRegion, @unchecked Sendable {
    static let headerSize = 64
    static let magic: UInt64 = 0x4650_5354_4154_4531  // "FPSTATE1"

    public let path: String
    public let payload: UnsafeMutableRawPointer
    public let payloadSize: Int
    private let base: UnsafeMutableRawPointer
    private let descriptor: Int32
    private var mapped = true

    public var totalSize: Int { Self.headerSize + payloadSize }

    private init(path: String, descriptor: Int32, base: UnsafeMutableRawPointer, payloadSize: Int) {
        self.path = path
        self.descriptor = descriptor
        self.base = base
        self.payload = base + Self.headerSize
        self.payloadSize = payloadSize
    }

    deinit {
        detach()
        _ = close(descriptor)
    }

    /// Opens `path`, creating it with `payloadSize` bytes of payload when it is new or empty.
    ///
    /// - Parameter lock: take the file for this server (`flock`); false to look at a running server's file.
    /// - Returns: the mapping, and whether the file already held a table (whose own size wins).
    public static func open(path: String, payloadSize: Int, version: UInt32, lock: Bool) throws -> (StateFile, existed: Bool) {
        let descriptor = Glibc.open(path, O_RDWR | O_CLOEXEC | (lock ? O_CREAT : 0), 0o600)
        guard descriptor >= 0 else {
            throw SystemCallError(call: "open(\"\(path)\", O_RDWR\(lock ? "|O_CREAT" : ""), 0600)", errno: errno)
        }
        do {
            guard !lock || flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                throw SystemCallError(call: "flock(\"\(path)\", LOCK_EX|LOCK_NB)", errno: errno,
                                      hint: errno == EWOULDBLOCK ? "another forkpool server uses this state file" : nil)
            }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw SystemCallError(call: "fstat(\"\(path)\")", errno: errno) }
            let existed = info.st_size > 0
            var size = payloadSize
            if existed {
                guard info.st_size >= headerSize else { throw JobStoreError.corruptHeader("\(path) is too short to be a state file") }
                var header = [UInt8](repeating: 0, count: headerSize)
                guard pread(descriptor, &header, headerSize, 0) == headerSize else {
                    throw SystemCallError(call: "pread(\"\(path)\", 64)", errno: errno)
                }
                let magic = header.withUnsafeBytes { $0.load(fromByteOffset: 0, as: UInt64.self) }
                let fileVersion = header.withUnsafeBytes { $0.load(fromByteOffset: 8, as: UInt32.self) }
                size = Int(header.withUnsafeBytes { $0.load(fromByteOffset: 16, as: UInt64.self) })
                guard magic == Self.magic, fileVersion == version else {
                    throw JobStoreError.corruptHeader("\(path) is not a forkpool state file of layout version \(version)")
                }
                guard Int(info.st_size) == headerSize + size else {
                    throw JobStoreError.corruptHeader("\(path) has \(info.st_size) bytes, its header says \(headerSize + size)")
                }
            } else {
                guard lock else { throw JobStoreError.corruptHeader("\(path) is empty") }
                guard ftruncate(descriptor, off_t(headerSize + size)) == 0 else {
                    throw SystemCallError(call: "ftruncate(\"\(path)\", \(headerSize + size))", errno: errno,
                                          hint: errno == ENOSPC || errno == EFBIG ? "not enough room on the volume" : nil)
                }
            }
            guard let base = mmap(nil, headerSize + size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0),
                  base != MAP_FAILED else {
                throw SystemCallError(call: "mmap(\"\(path)\", \(headerSize + size), MAP_SHARED)", errno: errno)
            }
            if !existed {
                base.storeBytes(of: version, toByteOffset: 8, as: UInt32.self)
                base.storeBytes(of: UInt64(size), toByteOffset: 16, as: UInt64.self)
                base.storeBytes(of: Self.magic, toByteOffset: 0, as: UInt64.self)
            }
            return (StateFile(path: path, descriptor: descriptor, base: base, payloadSize: size), existed)
        } catch {
            _ = close(descriptor)
            throw error
        }
    }

    /// Writes dirty pages back; `wait` blocks until they are on the volume.
    public func flush(wait: Bool) {
        guard mapped else { return }
        _ = msync(base, totalSize, wait ? MS_SYNC : MS_ASYNC)
    }

    public func detach() {
        guard mapped else { return }
        mapped = false
        _ = munmap(base, totalSize)
    }

    /// The file stays: flushes it.
    public func remove() throws {
        flush(wait: true)
    }
}
