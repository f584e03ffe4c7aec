import ScionCompiler
import ScionGraph

/// Decides which values share a buffer and when each buffer is live, then asks the memory
/// planner where each goes in the arena.
///
/// Step 0 copies the inputs in, step `i + 1` runs node `i`, and the last step copies the outputs
/// out; graph inputs and outputs are therefore live for the whole run, so they are never
/// overwritten. Values the in-place pass aliased share one buffer whose live range is the union
/// of theirs.
struct BufferAssignment {
    /// Buffer group of each value.
    private(set) var groupOf: [String: Int] = [:]
    /// Floats per group at the largest batch.
    private(set) var groupFloats: [Int] = []
    private(set) var ranges: [(first: Int, last: Int)] = []
    /// Workspace requests: (node index, floats).
    private(set) var workspaces: [(node: Int, floats: Int)] = []

    init(graph: Graph, aliases: [String: String], maxBatch: Int) throws {
        func root(_ v: String) -> String {
            var v = v
            while let next = aliases[v] { v = next }
            return v
        }
        var groupIndex: [String: Int] = [:]
        let lastStep = graph.nodes.count + 1
        func touch(_ value: String, at step: Int) throws {
            guard let type = graph.values[value] else { return }
            let r = root(value)
            let g: Int
            if let existing = groupIndex[r] {
                g = existing
            } else {
                g = groupFloats.count
                groupIndex[r] = g
                groupFloats.append(0)
                ranges.append((step, step))
            }
            groupOf[value] = g
            // Batched values scale with the batch; unbatched ones (losses, gradients of
            // parameters, batch statistics) have a fixed size.
            let floats = type.isBatched ? type.elementsPerSample * maxBatch : type.elementCount(batch: 1)
            groupFloats[g] = max(groupFloats[g], floats)
            ranges[g] = (min(ranges[g].first, step), max(ranges[g].last, step))
        }
        for input in graph.inputs { try touch(input, at: 0) }
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where graph.parameter(named: input) == nil { try touch(input, at: i + 1) }
            for output in node.outputs { try touch(output, at: i + 1) }
        }
        for name in graph.inputs + graph.outputs { try touch(name, at: lastStep) }
        for name in graph.inputs { try touch(name, at: 0) }
    }

    mutating func addWorkspace(node: Int, floats: Int) {
        if floats > 0 { workspaces.append((node, floats)) }
    }

    /// Requests for the planner: value groups first (ids 0..<groups), then workspaces.
    var requests: [BufferRequest] {
        var out = groupFloats.enumerated().map { g, floats in
            BufferRequest(id: g, size: floats * 4, firstUse: ranges[g].first, lastUse: ranges[g].last)
        }
        for (k, w) in workspaces.enumerated() {
            out.append(
                BufferRequest(id: groupFloats.count + k, size: w.floats * 4, firstUse: w.node + 1, lastUse: w.node + 1))
        }
        return out
    }

    /// Request id of node `node`'s workspace.
    func workspaceID(node: Int) -> Int? {
        workspaces.firstIndex { $0.node == node }.map { groupFloats.count + $0 }
    }
}
