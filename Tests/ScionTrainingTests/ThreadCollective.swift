import Foundation
import ScionTraining

/// Data-parallel "processes" as threads of one test process: each rank holds a
/// `ThreadCollective` of the same `ThreadGroup`. Sums run in rank order, so every rank gets
/// bit-identical results, as MPI's deterministic reductions give.
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    fileprivate var slots: [[Double]]

    init(size: Int) {
        self.size = size
        slots = Array(repeating: [], count: size)
    }

    /// The collective of rank `rank`.
    func member(_ rank: Int) -> ThreadCollective { ThreadCollective(group: self, rank: rank) }

    /// Waits until every rank has arrived.
    fileprivate func barrier() {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
    }
}

final class ThreadCollective: Collective, @unchecked Sendable {
    let group: ThreadGroup
    public let rank: Int
    public var size: Int { group.size }
    /// Sums started, and calls letting them advance (counted to see the overlap).
    private(set) var started = 0, progressed = 0

    init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        let sums = exchange(values.map(Double.init)) { slots in
            slots.dropFirst().reduce(slots[0].map(Float.init)) { acc, s in zip(acc, s).map { $0 + Float($1) } }
        }
        for i in values.indices { values[i] = sums[i] }
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        let sums = exchange(Array(values)) { slots in
            slots.dropFirst().reduce(slots[0]) { acc, s in zip(acc, s).map { $0 + $1 } }
        }
        for i in values.indices { values[i] = sums[i] }
    }

    /// Sums at once (threads need no overlap), counting the call.
    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        started += 1
        try allreduceSum(values)
    }

    public func progressReductions() throws { progressed += 1 }

    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        let copy = exchange(values.map(Double.init)) { slots in slots[root].map(Float.init) }
        for i in values.indices { values[i] = copy[i] }
    }

    /// Publishes this rank's values, lets every rank compute `combine` over all of them, and
    /// waits until all have read before the slots can be reused.
    private func exchange<T>(_ mine: [Double], _ combine: ([[Double]]) -> [T]) -> [T] {
        group.slots[rank] = mine
        group.barrier()
        let result = combine(group.slots)
        group.barrier()
        return result
    }
}
