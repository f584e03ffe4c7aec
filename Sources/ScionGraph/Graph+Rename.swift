extension Graph {
    /// Renames a value that a node computes, everywhere it is named: the nodes that read or
    /// write it, the graph's outputs and its cut points. Graph inputs and parameters keep their
    /// names (a parameter's name is also its data's key in the `Model`).
    public mutating func renameValue(_ old: String, to new: String) throws(GraphError) {
        guard values[new] == nil else { throw GraphError.duplicateName(new, kind: "value") }
        guard !inputs.contains(old), parameter(named: old) == nil, let type = values.removeValue(forKey: old) else {
            throw GraphError.surgery("'\(old)' is not a value a node computes, so it cannot be renamed to '\(new)'")
        }
        values[new] = type
        let renamed = { (name: String) in name == old ? new : name }
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map(renamed)
            nodes[i].outputs = nodes[i].outputs.map(renamed)
        }
        for i in cutPoints.indices { cutPoints[i].value = renamed(cutPoints[i].value) }
        outputs = outputs.map(renamed)
    }
}
