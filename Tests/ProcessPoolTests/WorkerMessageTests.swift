import Testing
@testable import ProcessPool

@Suite("Messages between the pool and its workers")
struct WorkerMessageTests {
    @Test(arguments: [
        WorkerMessage.task(id: 1, name: "echo", input: Array("{\"a\":1}".utf8)),
        WorkerMessage.task(id: .max, name: "", input: []),
        WorkerMessage.progress(id: 42, Progress(percent: 37.5, message: "halfway-ish")),
        WorkerMessage.succeeded(id: 7, result: [0, 255, 1]),
        WorkerMessage.failed(id: 8, code: .taskError, message: "bad input"),
        WorkerMessage.failed(id: 9, code: .resultTooLarge, message: "too big"),
    ])
    func roundTrips(_ message: WorkerMessage) {
        #expect(WorkerMessage(decoding: message.encoded) == message)
    }

    @Test func rejectsMalformedPayloads() {
        #expect(WorkerMessage(decoding: []) == nil)
        #expect(WorkerMessage(decoding: [9, 0, 0, 0, 0, 0, 0, 0, 1]) == nil)  // unknown kind
        #expect(WorkerMessage(decoding: [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 50, 65]) == nil)  // name longer than the payload
        #expect(WorkerMessage(decoding: [2, 0, 0, 0, 0, 0, 0, 0, 1, 0]) == nil)  // progress without its percent
        #expect(WorkerMessage(decoding: [4, 0, 0, 0, 0, 0, 0, 0, 1, 77]) == nil)  // unknown failure code
    }
}

@Suite("Pending queue: priority first, FIFO within a priority")
struct PendingQueueTests {
    @Test func ordersByPriorityThenSubmission() {
        var queue = PendingQueue()
        let priorities = [0, 5, -1, 5, 10, 0, -10, 10]
        for (id, priority) in priorities.enumerated() {
            queue.insert(PoolTask(name: "t", priority: priority), id: UInt64(id))
        }
        var order: [UInt64] = []
        while let (id, _) = queue.popFirst() { order.append(id) }
        #expect(order == [4, 7, 1, 3, 0, 5, 2, 6])
    }

    @Test func removesByIdAndClears() {
        var queue = PendingQueue()
        for id in 0..<5 { queue.insert(PoolTask(name: "t"), id: UInt64(id)) }
        #expect(queue.remove(id: 2)?.name == "t")
        #expect(queue.remove(id: 2) == nil)
        #expect(queue.count == 4)
        #expect(queue.popFirst()?.id == 0)
        #expect(queue.popFirst()?.id == 1)
        #expect(queue.popFirst()?.id == 3)
        #expect(Set(queue.removeAll()) == [4])
        #expect(queue.isEmpty)
        #expect(queue.popFirst() == nil)
    }
}
