#if canImport(Glibc)
import Glibc
#endif

extension JobTable {
    /// Rebuilds every derived structure from the slots, after a process died while
    /// holding the lock. Runs with the lock held.
    ///
    /// Slots are the truth: a slot's state byte is written last, so a slot whose
    /// state says queued, running or finished has every field that state needs.
    /// A slot caught half-way (state still free) is simply free again.
    func recover() {
        header.recoveries &+= 1
        var live: [JobSlot] = []
        var usedBlocks = [Bool](repeating: false, count: layout.blockCount)
        header.freeSlotHead = -1
        header.freeSlotCount = 0
        for index in 0..<layout.bucketCount { buckets[index] = -1 }
        for state in JobState.allCases { header.setStateCount(state, 0) }

        for index in stride(from: Int32(layout.jobCapacity) - 1, through: 0, by: -1) {
            let slot = slot(index)
            guard slot.state != .free else {
                slot.input = .empty
                slot.result = .empty
                slot.error = .empty
                pushFreeSlot(slot)
                continue
            }
            // Chains the state does not use may be half-written: drop them; claim the rest.
            if slot.state != .succeeded { slot.result = .empty }
            if !(slot.state == .failed || slot.state == .canceled) { slot.error = .empty }
            slot.input = claim(slot.input, in: &usedBlocks)
            slot.result = claim(slot.result, in: &usedBlocks)
            slot.error = claim(slot.error, in: &usedBlocks)
            live.append(slot)
        }

        // Free blocks: everything no live chain claimed.
        header.freeBlockHead = -1
        header.freeBlockCount = 0
        for index in stride(from: layout.blockCount - 1, through: 0, by: -1) where !usedBlocks[index] {
            blockLinks[index] = header.freeBlockHead
            header.freeBlockHead = Int32(index)
            header.freeBlockCount += 1
        }

        // Lists: creation order, finish order, and the queues.
        header.listHead = -1
        header.listTail = -1
        header.finishedHead = -1
        header.finishedTail = -1
        header.queuedCount = 0
        for level in 0..<TableHeader.priorityLevels {
            header.setQueueHead(level, -1)
            header.setQueueTail(level, -1)
        }
        for slot in live.sorted(by: { $0.sequence < $1.sequence }) {
            append(slot, to: creationList)
            adjustCount(slot.state, by: 1)
            if slot.flags.contains(.hasIdempotencyKey) { indexIdempotent(slot) }
        }
        for slot in live.filter({ $0.state.isFinished }).sorted(by: { ($0.finishedAt, $0.sequence) < ($1.finishedAt, $1.sequence) }) {
            append(slot, to: finishedList)
        }
        for slot in live.filter({ $0.state == .queued }).sorted(by: { $0.queueSequence < $1.queueSequence }) {
            append(slot, to: queue(level: queueLevel(of: slot)))
            header.queuedCount += 1
        }
        let maximumSequence = live.map(\.sequence).max() ?? 0
        if header.nextSequence <= maximumSequence { header.nextSequence = maximumSequence + 1 }
        let maximumQueueSequence = live.map(\.queueSequence).max() ?? 0
        if header.nextQueueSequence <= maximumQueueSequence { header.nextQueueSequence = maximumQueueSequence + 1 }
        header.writerPID = 0
    }

    /// Marks a chain's blocks used; a chain that runs off the end, loops, or
    /// shares a block with another is cut to nothing.
    private func claim(_ chain: BlockChain, in used: inout [Bool]) -> BlockChain {
        guard chain.head >= 0, chain.length > 0 else { return .empty }
        let count = blocksNeeded(for: chain.length)
        var blocks: [Int] = []
        var block = chain.head
        for position in 0..<count {
            guard block >= 0, Int(block) < layout.blockCount, !used[Int(block)], !blocks.contains(Int(block)) else { return .empty }
            blocks.append(Int(block))
            if position < count - 1 { block = blockLinks[Int(block)] }
        }
        for index in blocks { used[index] = true }
        blockLinks[blocks.last!] = -1
        return chain
    }

    /// Every broken invariant of the table, checked under the lock; empty when sound.
    /// Tests call it after every scenario, the chaos test after killing processes.
    public func check() throws -> [String] {
        try locked { checkUnlocked() }
    }

    /// Forces the rebuild `locked` does after a crash, for tests.
    public func rebuildForTesting() throws {
        try locked { recover() }
    }

    func checkUnlocked() -> [String] {
        var problems: [String] = []
        var counts = [JobState: Int]()
        var usedBlocks = [Bool](repeating: false, count: layout.blockCount)
        var live = Set<Int32>()

        for index in 0..<Int32(layout.jobCapacity) {
            let slot = slot(index)
            counts[slot.state, default: 0] += 1
            guard slot.state != .free else { continue }
            live.insert(index)
            var chains = [("input", slot.input)]
            if slot.state == .succeeded { chains.append(("result", slot.result)) }
            if slot.state == .failed || slot.state == .canceled { chains.append(("error", slot.error)) }
            for (name, chain) in chains where chain.head >= 0 {
                var block = chain.head
                for position in 0..<blocksNeeded(for: chain.length) {
                    guard block >= 0, Int(block) < layout.blockCount else {
                        problems.append("slot \(index): \(name) chain leaves the data area at block \(position)")
                        break
                    }
                    if usedBlocks[Int(block)] { problems.append("slot \(index): \(name) block \(block) is used twice") }
                    usedBlocks[Int(block)] = true
                    block = blockLinks[Int(block)]
                }
            }
            if slot.state == .running && slot.startedAt == 0 { problems.append("slot \(index): running but never started") }
            if slot.state.isFinished && slot.finishedAt == 0 { problems.append("slot \(index): finished without finishedAt") }
            if slot.attempts > slot.maxAttempts { problems.append("slot \(index): \(slot.attempts) attempts of \(slot.maxAttempts)") }
        }
        for state in JobState.allCases where state != .free {
            if Int(header.stateCount(state)) != counts[state, default: 0] {
                problems.append("count of \(state.name) is \(header.stateCount(state)), slots say \(counts[state, default: 0])")
            }
        }
        if Int(header.freeSlotCount) != counts[.free, default: 0] {
            problems.append("free slot count \(header.freeSlotCount), slots say \(counts[.free, default: 0])")
        }

        // Free blocks: the free stack holds exactly the blocks no chain uses.
        var freeBlocks = 0
        var block = header.freeBlockHead
        while block >= 0 && freeBlocks <= layout.blockCount {
            if usedBlocks[Int(block)] { problems.append("block \(block) is free and in use") }
            usedBlocks[Int(block)] = true
            freeBlocks += 1
            block = blockLinks[Int(block)]
        }
        if freeBlocks != Int(header.freeBlockCount) { problems.append("free block stack has \(freeBlocks), count says \(header.freeBlockCount)") }
        if let leaked = usedBlocks.firstIndex(of: false) { problems.append("block \(leaked) is neither free nor used (leaked)") }

        // Free slots.
        var freeSlots = 0
        var index = header.freeSlotHead
        while index >= 0 && freeSlots <= layout.jobCapacity {
            if slot(index).state != .free { problems.append("slot \(index) is on the free stack but \(slot(index).state.name)") }
            freeSlots += 1
            index = slot(index).listNext
        }
        if freeSlots != Int(header.freeSlotCount) { problems.append("free slot stack has \(freeSlots), count says \(header.freeSlotCount)") }

        // Lists.
        let creation = walk(creationList, name: "creation list", problems: &problems)
        if Set(creation) != live { problems.append("creation list holds \(creation.count) jobs, \(live.count) are live") }
        if zip(creation, creation.dropFirst()).contains(where: { slot($0.0).sequence >= slot($0.1).sequence }) {
            problems.append("creation list is out of order")
        }
        let finished = walk(finishedList, name: "finished list", problems: &problems)
        let finishedLive = live.filter { slot($0).state.isFinished }
        if Set(finished) != finishedLive { problems.append("finished list holds \(finished.count), \(finishedLive.count) are finished") }
        var queued = Set<Int32>()
        for level in 0..<TableHeader.priorityLevels {
            for index in walk(queue(level: level), name: "queue \(level - 10)", problems: &problems) {
                if queueLevel(of: slot(index)) != level { problems.append("slot \(index) is in the queue of another priority") }
                queued.insert(index)
            }
        }
        let queuedLive = live.filter { slot($0).state == .queued }
        if queued != queuedLive { problems.append("queues hold \(queued.count), \(queuedLive.count) are queued") }
        if Int(header.queuedCount) != queued.count { problems.append("queued count \(header.queuedCount), queues hold \(queued.count)") }

        // Idempotency index: exactly the live slots with a key, each in its own bucket.
        var indexed = Set<Int32>()
        for bucketIndex in 0..<layout.bucketCount {
            var index = buckets[bucketIndex]
            var steps = 0
            while index >= 0 && steps <= layout.jobCapacity {
                if bucket(for: slot(index).idempotencyKeyHash) != bucketIndex { problems.append("slot \(index) is in the wrong bucket") }
                indexed.insert(index)
                index = slot(index).idempotencyNext
                steps += 1
            }
        }
        let keyed = live.filter { slot($0).flags.contains(.hasIdempotencyKey) }
        if indexed != keyed { problems.append("idempotency index holds \(indexed.count), \(keyed.count) jobs have keys") }
        if header.writerPID != getpid() { problems.append("writer mark is \(header.writerPID) inside the lock") }
        return problems
    }

    /// The slots of a list from head to tail, checking links both ways.
    private func walk(_ list: SlotList, name: String, problems: inout [String]) -> [Int32] {
        var order: [Int32] = []
        var previous: Int32 = -1
        var index = list.getHead()
        while index >= 0 {
            guard order.count <= layout.jobCapacity else {
                problems.append("\(name) has a cycle")
                return order
            }
            let slot = slot(index)
            if slot[keyPath: list.prev] != previous { problems.append("\(name): slot \(index) points back to \(slot[keyPath: list.prev]), not \(previous)") }
            order.append(index)
            previous = index
            index = slot[keyPath: list.next]
        }
        if list.getTail() != previous { problems.append("\(name): tail is \(list.getTail()), the walk ends at \(previous)") }
        return order
    }
}
