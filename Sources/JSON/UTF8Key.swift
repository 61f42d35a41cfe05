/// A string compared and hashed by its UTF-8 bytes.
///
/// JSON names are sequences of code points and two names are the same only when their
/// code points are; Swift's `String ==` would also equate canonically equivalent spellings
/// ("é" and "e\u{301}"), which would make distinct JSON keys collide.
struct UTF8Key: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool { utf8Equal(lhs.string, rhs.string) }

    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// Whether two strings have the same UTF-8 bytes.
@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    guard a.utf8.count == b.utf8.count else { return false }
    return a.withUTF8 { x in b.withUTF8 { y in x.elementsEqual(y) } }
}

/// Whether `a` sorts before `b` when both are compared byte by byte as UTF-8
/// (the same order as by code points).
@inline(__always)
func utf8Less(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in b.withUTF8 { y in x.lexicographicallyPrecedes(y) } }
}
