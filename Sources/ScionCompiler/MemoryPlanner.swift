/// One buffer to place: its size and the steps during which it must hold its data.
public struct BufferRequest: Hashable, Sendable {
    public var id: Int
    public var size: Int
    /// First step that writes it and last step that reads it (inclusive).
    public var firstUse: Int
    public var lastUse: Int

    public init(id: Int, size: Int, firstUse: Int, lastUse: Int) {
        self.id = id
        self.size = size
        self.firstUse = firstUse
        self.lastUse = lastUse
    }

    func overlaps(_ other: BufferRequest) -> Bool {
        firstUse <= other.lastUse && other.firstUse <= lastUse
    }
}

/// Where every buffer lives in one arena, and how good the placement is.
public struct MemoryPlan: Sendable, Equatable {
    /// Byte offset of each request, by id.
    public var offsets: [Int: Int]
    /// Arena size in bytes.
    public var arenaBytes: Int
    /// Sum of all sizes: the memory without any reuse.
    public var naiveBytes: Int
    /// The largest total size of buffers live at the same step: no placement can do better.
    public var lowerBoundBytes: Int
}

/// A placement strategy: sizes and live ranges in, offsets out. Swap in another to compare.
public protocol MemoryPlanningStrategy: Sendable {
    var name: String { get }
    func place(_ requests: [BufferRequest], alignment: Int) -> [Int: Int]
}

/// Greedy by size with best-fit offsets (as TFLite's arena planner, XNNPACK's memory planner
/// and TVM's USMP do): largest buffers first; each goes into the smallest gap, among buffers
/// already placed whose lifetimes overlap its own, that fits it, or above them all.
public struct GreedyBySizePlanner: MemoryPlanningStrategy {
    public let name = "greedy-by-size"

    public init() {}

    public func place(_ requests: [BufferRequest], alignment: Int) -> [Int: Int] {
        let order = requests.sorted { ($0.size, $1.id) > ($1.size, $0.id) }
        var placed: [(request: BufferRequest, offset: Int)] = []
        var offsets: [Int: Int] = [:]
        for request in order {
            let conflicts = placed.filter { $0.request.overlaps(request) }.sorted { $0.offset < $1.offset }
            var best: (offset: Int, gap: Int)?
            var cursor = 0
            for c in conflicts {
                let gap = c.offset - cursor
                if gap >= request.size, best == nil || gap < best!.gap { best = (cursor, gap) }
                cursor = max(cursor, align(c.offset + c.request.size, alignment))
            }
            let offset = best?.offset ?? cursor
            offsets[request.id] = offset
            placed.append((request, offset))
        }
        return offsets
    }
}

/// Plans an arena with a strategy and reports the three figures.
public enum MemoryPlanner {
    public static let alignment = 64

    public static func plan(_ requests: [BufferRequest], strategy: any MemoryPlanningStrategy = GreedyBySizePlanner())
        -> MemoryPlan
    {
        let aligned = requests.map { r -> BufferRequest in
            var r = r
            r.size = align(r.size, alignment)
            return r
        }
        let offsets = strategy.place(aligned, alignment: alignment)
        let arena = aligned.map { (offsets[$0.id] ?? 0) + $0.size }.max() ?? 0
        return MemoryPlan(
            offsets: offsets, arenaBytes: arena, naiveBytes: aligned.reduce(0) { $0 + $1.size },
            lowerBoundBytes: lowerBound(aligned))
    }

    /// The maximum over steps of the total size of buffers live at that step.
    public static func lowerBound(_ requests: [BufferRequest]) -> Int {
        let steps = Set(requests.flatMap { [$0.firstUse, $0.lastUse] })
        return steps.map { step in
            requests.filter { $0.firstUse <= step && step <= $0.lastUse }.reduce(0) { $0 + $1.size }
        }.max() ?? 0
    }
}

func align(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }
