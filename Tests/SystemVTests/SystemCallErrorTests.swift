import Foundation
@testable import SystemV
import Testing

@Suite("SystemCallError")
struct SystemCallErrorTests {
    @Test("a failed attach names the call, the errno text and what to do")
    func missingSegment() throws {
        try withFreshKey { key in
            let error = #expect(throws: SystemCallError.self) {
                try SharedMemorySegment.attach(key: key, layout: SegmentLayout(magic: 1, version: 1))
            }
            let text = try #require(error).description
            #expect(text.hasPrefix("shmget(\(key), 0, 0) failed: "))
            #expect(text.contains("No such file or directory (errno \(ENOENT))"))
            #expect(text.contains("ipcs -m"))
        }
    }

    @Test("a set larger than SEMMSL allows names semget with its flags and the sysctl")
    func tooManySemaphores() throws {
        try withFreshKey { key in
            let error = #expect(throws: SystemCallError.self) { try SemaphoreSet.create(key: key, count: 1_000_000) }
            let text = try #require(error).description
            #expect(text.hasPrefix("semget(\(key), 1000000, 03600) failed: Invalid argument (errno \(EINVAL))"))
            #expect(text.contains("sysctl kernel.sem"))
        }
    }

    @Test("limits and permissions come with the operator's remedy")
    func hints() {
        #expect(Hint.semget(ENOSPC, creating: true) == "raise SEMMNI/SEMMNS (sysctl kernel.sem)")
        #expect(Hint.shmget(ENOSPC, creating: true) == "raise SHMMNI/SHMALL (sysctl kernel.shmmni, kernel.shmall)")
        #expect(Hint.shmget(EINVAL, creating: true) == "size above SHMMAX? (sysctl kernel.shmmax)")
        #expect(Hint.shmget(EACCES, creating: false)?.contains("another user") == true)
        #expect(Hint.semget(EACCES, creating: false)?.contains("mode") == true)
        #expect(Hint.semop(EIDRM)?.contains("removed") == true)
        #expect(Hint.shmget(EBADF, creating: false) == nil)
    }

    @Test("the description reads call, reason, errno and hint in one line")
    func descriptionShape() {
        let error = SystemCallError(
            call: "semget(0x46500012, 1, 03600)", errno: ENOSPC, hint: Hint.semget(ENOSPC, creating: true))
        #expect(error.description
            == "semget(0x46500012, 1, 03600) failed: No space left on device (errno 28); raise SEMMNI/SEMMNS (sysctl kernel.sem)")
    }
}
