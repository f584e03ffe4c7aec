import ScionGraph

/// Editing helpers the passes share.
extension Graph {
    /// Points every reader of `old` (nodes, graph outputs, cut points) at `new`.
    mutating func replaceUses(of old: String, with new: String) {
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map { $0 == old ? new : $0 }
        }
        outputs = outputs.map { $0 == old ? new : $0 }
        for i in cutPoints.indices where cutPoints[i].value == old { cutPoints[i].value = new }
    }

    /// Indices of the nodes reading `value`.
    func readers(of value: String) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(value) }
    }

    /// True when `value` is observable from outside: a graph output.
    func isObservable(_ value: String) -> Bool {
        outputs.contains(value)
    }

    /// True when `value` is a parameter or graph input, or produced by a node before `index`.
    func isAvailable(_ value: String, before index: Int) -> Bool {
        if inputs.contains(value) || parameter(named: value) != nil { return true }
        return nodes[..<index].contains { $0.outputs.contains(value) }
    }

    /// Removes the node at `index` and the values only it defined.
    mutating func removeNode(at index: Int) {
        for output in nodes[index].outputs { values[output] = nil }
        nodes.remove(at: index)
    }

    /// Makes the node at `index`, whose single output is read only by node `consumer`, take over
    /// the consumer's output name; the consumer is removed. Used when fusing a consumer into its
    /// producer.
    mutating func absorb(consumer: Int, into index: Int) {
        let absorbed = nodes[consumer].output
        let type = values[absorbed]
        let old = nodes[index].output
        nodes.remove(at: consumer)
        values[old] = nil
        nodes[index].outputs[0] = absorbed
        values[absorbed] = type
    }
}
