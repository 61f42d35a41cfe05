/// Tasks waiting for a worker: highest priority first, first in first out within a priority.
///
/// A binary heap orders (priority, sequence) pairs; the tasks themselves live in a
/// dictionary so that removing one by id is O(1) (its heap entry is skipped later).
struct PendingQueue {
    private struct Entry {
        let priority: Int
        let sequence: UInt64
        let id: UInt64

        /// True when `self` should run before `other`.
        func precedes(_ other: Entry) -> Bool {
            priority != other.priority ? priority > other.priority : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var tasks: [UInt64: PoolTask] = [:]
    private var nextSequence: UInt64 = 0

    var count: Int { tasks.count }
    var isEmpty: Bool { tasks.isEmpty }

    mutating func insert(_ task: PoolTask, id: UInt64) {
        tasks[id] = task
        heap.append(Entry(priority: task.priority, sequence: nextSequence, id: id))
        nextSequence += 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the task that runs next.
    mutating func popFirst() -> (id: UInt64, task: PoolTask)? {
        while let top = heap.first {
            removeTop()
            if let task = tasks.removeValue(forKey: top.id) { return (top.id, task) }
        }
        return nil
    }

    /// Removes one waiting task; returns it if it was waiting.
    mutating func remove(id: UInt64) -> PoolTask? {
        let task = tasks.removeValue(forKey: id)
        if tasks.isEmpty { heap.removeAll(keepingCapacity: true) }
        return task
    }

    /// Empties the queue and returns the ids it held.
    mutating func removeAll() -> [UInt64] {
        let ids = Array(tasks.keys)
        tasks.removeAll()
        heap.removeAll()
        return ids
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var best = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count && heap[child].precedes(heap[best]) {
                best = child
            }
            if best == parent { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
