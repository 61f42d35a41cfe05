/// A binary min-heap of (deadline, serial): the loop's earliest deadline in O(1). Serials name
/// suspended requests (`DaemonContext`) or connections (`RequestHeadDeadlines`).
///
/// Entries are not removed when a request is resumed early or a deadline is cleared; the owner
/// skips entries that no longer apply and rebuilds the heap when such entries pile up.
struct DeadlineHeap {
    struct Entry {
        let deadline: UInt64
        let serial: UInt64
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }
    var first: Entry? { entries.first }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func removeFirst() -> Entry? {
        guard let top = entries.first else { return nil }
        let last = entries.removeLast()
        if entries.isEmpty { return top }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
            if smallest == parent { return top }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Keeps only the entries `keep` accepts.
    mutating func filter(_ keep: (Entry) -> Bool) {
        let kept = entries.filter(keep)
        entries = []
        entries.reserveCapacity(kept.count)
        for entry in kept { insert(entry) }
    }
}
