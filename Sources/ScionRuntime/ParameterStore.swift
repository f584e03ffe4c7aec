import ScionGraph

/// Every parameter's data in one 64-byte aligned block, by name. Kernels read weights through
/// these pointers (or pack them once from here); a trainer updates them in place and then calls
/// `Executor.parametersDidChange()` so packed copies are refreshed.
public final class ParameterStore: @unchecked Sendable {
    public struct Entry: @unchecked Sendable {
        public let pointer: UnsafeMutablePointer<Float>
        public let shape: [Int]
        public var count: Int { shape.reduce(1, *) }
    }

    private let block: UnsafeMutableRawPointer
    public private(set) var entries: [String: Entry] = [:]
    /// Names in the graph's declaration order.
    public let names: [String]

    init(graph: Graph, parameters: [String: Tensor]) throws {
        var offsets: [(String, Int, [Int])] = []
        var total = 0
        for p in graph.parameters {
            guard let tensor = parameters[p.name] else { throw RuntimeError.missingParameter(p.name) }
            offsets.append((p.name, total, tensor.shape))
            total += (tensor.count + 15) / 16 * 16
        }
        block = .allocate(byteCount: max(total, 16) * 4, alignment: 64)
        let floats = block.bindMemory(to: Float.self, capacity: max(total, 16))
        for (name, offset, shape) in offsets {
            let entry = Entry(pointer: floats + offset, shape: shape)
            let values = parameters[name]!.floats
            entry.pointer.initialize(from: values, count: values.count)
            entries[name] = entry
        }
        names = offsets.map(\.0)
    }

    deinit { block.deallocate() }

    public func pointer(_ name: String) -> UnsafeMutablePointer<Float>? { entries[name]?.pointer }

    /// A copy of parameter `name`.
    public func tensor(_ name: String) -> Tensor? {
        guard let e = entries[name] else { return nil }
        return Tensor(shape: e.shape, values: Array(UnsafeBufferPointer(start: e.pointer, count: e.count)))
    }

    /// Every parameter as tensors.
    public func tensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, tensor($0)!) })
    }

    /// Overwrites parameter `name` with `values` (which must have its element count).
    public func set(_ name: String, _ values: [Float]) {
        guard let e = entries[name], values.count == e.count else { return }
        e.pointer.update(from: values, count: e.count)
    }
}

/// A step holding data derived from parameters (packed weights, folded scales); `refresh`
/// recomputes it after the parameters change.
protocol ParameterDependent: AnyObject {
    func refresh()
}
