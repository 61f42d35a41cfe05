/// The doubly linked lists threaded through the slots: every job in creation
/// order, finished jobs in finish order, and one queue per priority level.
struct SlotList {
    let prev: WritableKeyPath<JobSlot, Int32>
    let next: WritableKeyPath<JobSlot, Int32>
    let getHead: () -> Int32
    let setHead: (Int32) -> Void
    let getTail: () -> Int32
    let setTail: (Int32) -> Void
}

extension JobTable {
    var creationList: SlotList {
        SlotList(prev: \.listPrev, next: \.listNext,
                 getHead: { self.header.listHead }, setHead: { self.header.listHead = $0 },
                 getTail: { self.header.listTail }, setTail: { self.header.listTail = $0 })
    }

    var finishedList: SlotList {
        SlotList(prev: \.finishedPrev, next: \.finishedNext,
                 getHead: { self.header.finishedHead }, setHead: { self.header.finishedHead = $0 },
                 getTail: { self.header.finishedTail }, setTail: { self.header.finishedTail = $0 })
    }

    /// Priority -10 is level 0, 10 is level 20.
    func queue(level: Int) -> SlotList {
        SlotList(prev: \.queuePrev, next: \.queueNext,
                 getHead: { self.header.queueHead(level) }, setHead: { self.header.setQueueHead(level, $0) },
                 getTail: { self.header.queueTail(level) }, setTail: { self.header.setQueueTail(level, $0) })
    }

    func queueLevel(of slot: JobSlot) -> Int { Int(slot.priority) + 10 }

    func append(_ slot: JobSlot, to list: SlotList) {
        var slot = slot
        let tail = list.getTail()
        slot[keyPath: list.prev] = tail
        slot[keyPath: list.next] = -1
        if tail >= 0 {
            var previous = self.slot(tail)
            previous[keyPath: list.next] = slot.index
        } else {
            list.setHead(slot.index)
        }
        list.setTail(slot.index)
    }

    func unlink(_ slot: JobSlot, from list: SlotList) {
        var slot = slot
        let prev = slot[keyPath: list.prev]
        let next = slot[keyPath: list.next]
        if prev >= 0 {
            var previous = self.slot(prev)
            previous[keyPath: list.next] = next
        } else if list.getHead() == slot.index {
            list.setHead(next)
        }
        if next >= 0 {
            var following = self.slot(next)
            following[keyPath: list.prev] = prev
        } else if list.getTail() == slot.index {
            list.setTail(prev)
        }
        slot[keyPath: list.prev] = -1
        slot[keyPath: list.next] = -1
    }

    // MARK: Idempotency index

    func bucket(for hash: [UInt8]) -> Int {
        let value = hash.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(value & UInt64(layout.bucketCount - 1))
    }

    func findIdempotent(_ hash: [UInt8]) -> JobSlot? {
        var index = buckets[bucket(for: hash)]
        var steps = 0
        while index >= 0 && steps < layout.jobCapacity {
            let candidate = slot(index)
            if candidate.state != .free && candidate.idempotencyKeyHash == hash { return candidate }
            index = candidate.idempotencyNext
            steps += 1
        }
        return nil
    }

    func indexIdempotent(_ slot: JobSlot) {
        let bucket = bucket(for: slot.idempotencyKeyHash)
        slot.idempotencyNext = buckets[bucket]
        buckets[bucket] = slot.index
    }

    func unindexIdempotent(_ slot: JobSlot) {
        let bucket = bucket(for: slot.idempotencyKeyHash)
        if buckets[bucket] == slot.index {
            buckets[bucket] = slot.idempotencyNext
        } else {
            var index = buckets[bucket]
            var steps = 0
            while index >= 0 && steps < layout.jobCapacity {
                let candidate = self.slot(index)
                if candidate.idempotencyNext == slot.index {
                    candidate.idempotencyNext = slot.idempotencyNext
                    break
                }
                index = candidate.idempotencyNext
                steps += 1
            }
        }
        slot.idempotencyNext = -1
    }

    // MARK: Free slots (a stack linked through listNext)

    func popFreeSlot() -> JobSlot? {
        let index = header.freeSlotHead
        guard index >= 0 else { return nil }
        let slot = slot(index)
        header.freeSlotHead = slot.listNext
        header.freeSlotCount -= 1
        return slot
    }

    func pushFreeSlot(_ slot: JobSlot) {
        slot.listNext = header.freeSlotHead
        header.freeSlotHead = slot.index
        header.freeSlotCount += 1
    }

    func adjustCount(_ state: JobState, by delta: Int) {
        header.setStateCount(state, UInt32(Int(header.stateCount(state)) + delta))
    }
}
