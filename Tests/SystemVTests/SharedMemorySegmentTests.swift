import Foundation
@testable import SystemV
import Testing

@Suite("SharedMemorySegment")
struct SharedMemorySegmentTests {
    static let layout = SegmentLayout(magic: 0x4650_5445_5354_5348, version: 3)  // "FPTESTSH"

    @Test("create writes the header; attach finds the same memory")
    func createAndAttach() throws {
        try withFreshKey { key in
            let created = try SharedMemorySegment.create(key: key, payloadSize: 100, layout: Self.layout)
            defer { try? created.remove() }
            #expect(created.key == key)
            #expect(created.payloadSize == 100)
            #expect(created.totalSize == 164)
            #expect(created.creatorPID == getpid())
            #expect(Int(bitPattern: created.payload) % 64 == 0)
            #expect(abs(created.creationTime - Int64(time(nil))) < 60)
            let zeros = UnsafeRawBufferPointer(start: created.payload, count: created.payloadSize)
            #expect(zeros.allSatisfy { $0 == 0 })

            created.payload.storeBytes(of: 0xDEAD_BEEF, toByteOffset: 96, as: UInt32.self)

            let attached = try SharedMemorySegment.attach(key: key, layout: Self.layout)
            #expect(attached.id == created.id)
            #expect(attached.payloadSize == 100)
            #expect(attached.creatorPID == getpid())
            #expect(attached.payload.load(fromByteOffset: 96, as: UInt32.self) == 0xDEAD_BEEF)
            #expect(try created.attachmentCount() == 2)

            attached.detach()
            attached.detach()
            #expect(try created.attachmentCount() == 1)
        }
    }

    @Test("a segment of another layout is refused, naming both magics")
    func magicMismatch() throws {
        try withFreshKey { key in
            let created = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? created.remove() }
            let other = SegmentLayout(magic: 0x1122_3344_5566_7788, version: 3)
            let error = #expect(throws: IPCError.self) { try SharedMemorySegment.attach(key: key, layout: other) }
            guard case let .headerMismatch(found, detail)? = error else {
                Issue.record("expected headerMismatch, got \(String(describing: error))")
                return
            }
            #expect(found == key)
            #expect(detail.contains("0x4650544553545348"))
            #expect(detail.contains("0x1122334455667788"))
            #expect(try created.attachmentCount() == 1, "a refused attach must not stay attached")
        }
    }

    @Test("a segment of another layout version is refused")
    func versionMismatch() throws {
        try withFreshKey { key in
            let created = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? created.remove() }
            let newer = SegmentLayout(magic: Self.layout.magic, version: 4)
            let error = #expect(throws: IPCError.self) { try SharedMemorySegment.attach(key: key, layout: newer) }
            guard case let .headerMismatch(_, detail)? = error else {
                Issue.record("expected headerMismatch, got \(String(describing: error))")
                return
            }
            #expect(detail.contains("version 3"))
            #expect(detail.contains("version 4"))
            #expect(error?.description.contains("ipcrm -M \(key)") == true)
        }
    }

    @Test("a header claiming more bytes than the segment has is refused")
    func recordedSizeTooLarge() throws {
        try withFreshKey { key in
            let created = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? created.remove() }
            let base = created.payload - SegmentHeader.size
            var header = SegmentHeader(readingFrom: base)
            header.payloadSize = 1 << 20
            header.write(to: base)

            let error = #expect(throws: IPCError.self) { try SharedMemorySegment.attach(key: key, layout: Self.layout) }
            guard case let .headerMismatch(_, detail)? = error else {
                Issue.record("expected headerMismatch, got \(String(describing: error))")
                return
            }
            #expect(detail.contains("1048576"))
            #expect(detail.contains("128"))
        }
    }

    @Test("a segment too small for a header is refused, and never reclaimed")
    func tooSmallForHeader() throws {
        try withFreshKey { key in
            let id = try Syscall.shmget(key, size: 16, flags: IPC_CREAT | IPC_EXCL | 0o600)
            defer { try? Syscall.shmRemove(id) }
            #expect(throws: IPCError.self) { try SharedMemorySegment.attach(key: key, layout: Self.layout) }
            let error = #expect(throws: IPCError.self) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            }
            guard case let .headerMismatch(_, detail)? = error else {
                Issue.record("expected headerMismatch, got \(String(describing: error))")
                return
            }
            #expect(detail.contains("16 bytes"))
            #expect(try Syscall.shmStat(id).shm_segsz == 16, "the foreign segment must survive")
        }
    }

    @Test("creating twice is refused while the creator lives", arguments: [true, false])
    func doubleCreate(reclaimStale: Bool) throws {
        try withFreshKey { key in
            let created = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            defer { try? created.remove() }
            #expect(throws: IPCError.inUse(key: key, creatorPID: getpid())) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout, reclaimStale: reclaimStale)
            }
            #expect(try SharedMemorySegment.attach(key: key, layout: Self.layout).id == created.id)
        }
    }

    @Test("mode is 0600 unless asked otherwise")
    func mode() throws {
        try withFreshKeys(2) { keys in
            let owned = try SharedMemorySegment.create(key: keys[0], payloadSize: 64, layout: Self.layout)
            defer { try? owned.remove() }
            let shared = try SharedMemorySegment.create(key: keys[1], payloadSize: 64, layout: Self.layout, mode: 0o640)
            defer { try? shared.remove() }
            #expect(try permissions(of: keys[0], in: "shm") == "600")
            #expect(try permissions(of: keys[1], in: "shm") == "640")
        }
    }

    @Test("remove(key:) reports whether there was a segment")
    func removeByKey() throws {
        try withFreshKey { key in
            let segment = try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout)
            segment.detach()
            #expect(try SharedMemorySegment.remove(key: key))
            #expect(try !SharedMemorySegment.remove(key: key))
            let error = #expect(throws: SystemCallError.self) {
                try SharedMemorySegment.attach(key: key, layout: Self.layout)
            }
            #expect(error?.errno == ENOENT)
        }
    }

    @Test("sizes out of range are refused before any call")
    func invalidArguments() throws {
        try withFreshKey { key in
            #expect(throws: IPCError.self) {
                try SharedMemorySegment.create(key: key, payloadSize: -1, layout: Self.layout)
            }
            #expect(throws: IPCError.self) {
                try SharedMemorySegment.create(key: key, payloadSize: 64, layout: Self.layout, mode: 0o4600)
            }
        }
    }
}
