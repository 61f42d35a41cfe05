/// The members of a JSON object, in the order they were given, with lookup by key.
///
/// Keys are unique and compared by their UTF-8 bytes. Small objects are searched
/// linearly; larger ones keep a hash index. Two objects are equal when they have the
/// same keys with equal values, in any order.
public struct JSONObject: Sendable, Sequence {
    public typealias Element = (key: String, value: JSONValue)

    /// Objects up to this size are searched linearly; above it, an index is kept.
    static let indexThreshold = 8

    /// The members, in order.
    public private(set) var members: [Element]
    private var index: [UTF8Key: Int]?

    /// An object with `members` in this order; a later member with a key that is already
    /// present replaces the earlier one's value, at the earlier one's position.
    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        self.members.reserveCapacity(members.count)
        for (key, value) in members {
            self[key] = value
        }
    }

    /// An empty object.
    public init() {
        members = []
    }

    /// Adopts members already known to have unique keys (the parser checked them),
    /// with the index the parser built while checking, if any.
    init(uniqueMembers: [Element], index: [UTF8Key: Int]?) {
        members = uniqueMembers
        self.index = uniqueMembers.count > Self.indexThreshold ? (index ?? Self.buildIndex(uniqueMembers)) : nil
    }

    /// The value of the member named `key`; setting nil removes the member, setting a new
    /// key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return members[position].value
        }
        set {
            if let position = position(of: key) {
                if let newValue {
                    members[position].value = newValue
                } else {
                    members.remove(at: position)
                    index = members.count > Self.indexThreshold ? Self.buildIndex(members) : nil
                }
            } else if let newValue {
                members.append((key, newValue))
                if index != nil {
                    index![UTF8Key(key)] = members.count - 1
                } else if members.count > Self.indexThreshold {
                    index = Self.buildIndex(members)
                }
            }
        }
    }

    /// The keys, in member order.
    public var keys: [String] { members.map(\.key) }

    /// The values, in member order.
    public var values: [JSONValue] { members.map(\.value) }

    /// The number of members.
    public var count: Int { members.count }

    /// True when the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> {
        members.makeIterator()
    }

    /// Whether a member named `key` exists.
    public func contains(key: String) -> Bool {
        position(of: key) != nil
    }

    private func position(of key: String) -> Int? {
        if let index {
            return index[UTF8Key(key)]
        }
        return members.firstIndex { utf8Equal($0.key, key) }
    }

    private static func buildIndex(_ members: [Element]) -> [UTF8Key: Int] {
        var index = [UTF8Key: Int](minimumCapacity: members.count)
        for (position, member) in members.enumerated() {
            index[UTF8Key(member.key)] = position
        }
        return index
    }
}

extension JSONObject: Equatable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (position, member) in lhs.members.enumerated() {
            // Same order is the common case and needs no lookup.
            if position < rhs.members.count, utf8Equal(rhs.members[position].key, member.key) {
                guard rhs.members[position].value == member.value else { return false }
            } else {
                guard let other = rhs[member.key], other == member.value else { return false }
            }
        }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Later members replace earlier ones with the same key.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
