import Foundation
import SystemV
import Testing

@Suite("IPCKey")
struct IPCKeyTests {
    @Test("decimal text, signed or as an unsigned 32-bit pattern")
    func decimal() throws {
        #expect(try IPCKey(parsing: "1234").rawValue == 1234)
        #expect(try IPCKey(parsing: "-2").rawValue == -2)
        #expect(try IPCKey(parsing: "4294967295").rawValue == -1)
    }

    @Test("0x hexadecimal text, as ipcs prints keys")
    func hexadecimal() throws {
        #expect(try IPCKey(parsing: "0x4650abcd").rawValue == 0x4650_ABCD)
        #expect(try IPCKey(parsing: "0XFF").rawValue == 255)
        #expect(try IPCKey(parsing: "0xffffffff").rawValue == -1)
    }

    @Test("description is 0x and eight hexadecimal digits")
    func description() {
        #expect(IPCKey(0x12).description == "0x00000012")
        #expect(IPCKey(-1).description == "0xffffffff")
        #expect(IPCKey(0x4650_ABCD).description == "0x4650abcd")
    }

    @Test("a path becomes ftok(path, 'F')")
    func path() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("forkpool-ipckey-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: path) }

        var status = stat()
        #expect(stat(path, &status) == 0)
        // ftok's documented recipe on Linux: project id, low byte of the device, low 16 bits of the inode.
        let expected = Int32(bitPattern: UInt32(UInt8(ascii: "F")) << 24
            | (UInt32(truncatingIfNeeded: status.st_dev) & 0xFF) << 16
            | (UInt32(truncatingIfNeeded: status.st_ino) & 0xFFFF))

        #expect(try IPCKey(parsing: path).rawValue == expected)
        #expect(try IPCKey(path: path).rawValue == expected)
        #expect(try IPCKey(path: path, projectID: UInt8(ascii: "G")).rawValue != expected)
    }

    @Test("ftok of a missing file names the call", arguments: ["/nonexistent/forkpool-key"])
    func missingPath(_ path: String) throws {
        let error = #expect(throws: SystemCallError.self) { try IPCKey(path: path) }
        #expect(error?.call == "ftok(\"/nonexistent/forkpool-key\", 'F')")
        #expect(error?.errno == ENOENT)
    }

    @Test("anything else is refused with a reason", arguments: [
        "", "abc", "0x", "0x123456789", "0xg1", "12abc", "1.5", " 12", "0", "0x0", "/nonexistent/forkpool-key",
        "99999999999",
    ])
    func garbage(_ text: String) {
        let error = #expect(throws: IPCError.self) { try IPCKey(parsing: text) }
        guard case let .invalidKey(found, reason)? = error else {
            Issue.record("expected IPCError.invalidKey, got \(String(describing: error))")
            return
        }
        #expect(found == text)
        #expect(!reason.isEmpty)
        #expect(error?.description.contains("is not an IPC key") == true)
    }
}
