/// A step's scratch buffer described as typed regions, so the size the memory planner reserves
/// and the offsets the step reads come from one description instead of two hand-kept formulas.
/// Regions start on 64-byte boundaries (the arena's alignment), which also keeps per-thread
/// partial sums off each other's cache lines.
struct ScratchLayout {
    /// Bytes reserved so far.
    private(set) var bytes = 0

    /// Floats the planner must reserve for this layout.
    var floats: Int { (bytes + MemoryLayout<Float>.stride - 1) / MemoryLayout<Float>.stride }

    /// Appends a region of `count` values of `T`.
    mutating func region<T>(_ type: T.Type, _ count: Int) -> ScratchRegion<T> {
        let offset = (bytes + 63) / 64 * 64
        bytes = offset + count * MemoryLayout<T>.stride
        return ScratchRegion(byteOffset: offset, count: count)
    }
}

/// One region of a `ScratchLayout`.
struct ScratchRegion<T> {
    let byteOffset: Int
    let count: Int

    /// The region inside a workspace laid out as its `ScratchLayout` says.
    func pointer(in workspace: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<T> {
        (UnsafeMutableRawPointer(workspace) + byteOffset).bindMemory(to: T.self, capacity: count)
    }
}
