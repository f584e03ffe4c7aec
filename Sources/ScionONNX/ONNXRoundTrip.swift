import ScionGraph

/// A file Scion exported carries its graph as Scion stored it (`scion.graph`). The importer
/// adopts that graph only when it is the same computation as the one derived from the ONNX
/// nodes: same inputs, outputs, nodes (name, op, inputs, outputs, attributes as the schema reads
/// them) and parameter shapes. It then restores what ONNX cannot say (parameter roles and
/// trainable flags, attributes as written, cut points), so a round trip keeps the content hash;
/// an edited file falls back to the derived graph.
enum ONNXRoundTrip {
    static func matches(_ original: Graph, derived: Graph) -> Bool {
        guard original.inputs == derived.inputs, original.outputs == derived.outputs,
            original.nodes.count == derived.nodes.count,
            original.parameters.map(\.name).sorted() == derived.parameters.map(\.name).sorted(),
            original.parameters.allSatisfy({ derived.parameter(named: $0.name)?.shape == $0.shape }),
            (try? original.verify()) != nil
        else { return false }
        return zip(original.nodes, derived.nodes).allSatisfy(sameNode)
    }

    static func sameNode(_ a: Node, _ b: Node) -> Bool {
        guard a.name == b.name, a.op == b.op, a.inputs == b.inputs, a.outputs == b.outputs,
            let schema = OpRegistry.schema(for: a.op)
        else { return false }
        let va = OpView(a), vb = OpView(b)
        return schema.attributes.allSatisfy { spec in
            close(va.attribute(spec.name), vb.attribute(spec.name))
        }
    }

    /// Equal, floats within float32 rounding (ONNX stores attributes as float32).
    static func close(_ a: AttributeValue?, _ b: AttributeValue?) -> Bool {
        switch (a, b) {
        case (.float(let x)?, .float(let y)?): return abs(x - y) <= 1e-6 * max(1, abs(x))
        case (.floats(let x)?, .floats(let y)?):
            return x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }
        default: return a == b
        }
    }
}
