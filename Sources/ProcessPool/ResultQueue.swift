/// Results in the order they finished; a head index keeps taking the first O(1).
struct ResultQueue {
    private var items: [TaskResult] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }

    mutating func append(_ result: TaskResult) {
        items.append(result)
    }

    mutating func popFirst() -> TaskResult? {
        guard head < items.count else { return nil }
        let result = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return result
    }
}
