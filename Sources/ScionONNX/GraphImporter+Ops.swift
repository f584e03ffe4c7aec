import ScionGraph

/// The ONNX operators Scion imports, by family. Each reads the ONNX operator's inputs and
/// attributes (with the spec's defaults) and emits Scion nodes.
extension GraphImporter {
    mutating func translate(_ node: Onnx_NodeProto) throws {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw unsupported(node, "\(node.domain).\(node.opType)")
        }
        let a = ONNXAttributes(node)
        if isFoldable(node) { return try fold(node, a) }
        switch node.opType {
        case "Conv", "ConvTranspose": try convolution(node, a)
        case "BatchNormalization", "InstanceNormalization": try normalization(node, a)
        case "Gemm", "MatMul": try dense(node, a)
        case "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean": try pooling(node, a)
        case "Flatten", "Reshape", "Pad": try reshaping(node, a)
        default: try elementwise(node, a)
        }
    }

    func unsupported(_ node: Onnx_NodeProto, _ what: String? = nil) -> ONNXError {
        .unsupported(node: nodeName(node), op: what ?? node.opType, direction: "import")
    }

    func nodeName(_ node: Onnx_NodeProto) -> String {
        node.name.isEmpty ? "\(node.opType)_\(node.output.first ?? "")" : node.name
    }

    /// Input `i` of `node`, or nil when absent (ONNX marks a skipped optional input with "").
    func input(_ node: Onnx_NodeProto, _ i: Int) -> String? {
        i < node.input.count && !node.input[i].isEmpty ? node.input[i] : nil
    }

    /// One Scion node for one ONNX node with one output.
    @discardableResult
    mutating func add1(
        _ node: Onnx_NodeProto, _ op: OpType, _ inputs: [String], _ attributes: [String: AttributeValue] = [:]
    ) throws -> String {
        guard node.output.count == 1 || node.output.dropFirst().allSatisfy({ readers[$0] == nil }) else {
            throw unsupported(node, "\(node.opType) with its optional outputs read")
        }
        return try add(nodeName(node), op, inputs, outputs: [node.output[0]], attributes)[0]
    }

    // MARK: Elementwise

    mutating func elementwise(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        switch node.opType {
        case "Relu": try add1(node, .relu, [try value(node.input[0])])
        case "Sigmoid": try add1(node, .sigmoid, [try value(node.input[0])])
        case "Tanh": try add1(node, .tanh, [try value(node.input[0])])
        case "LeakyRelu":
            try add1(node, .leakyRelu, [try value(node.input[0])], ["slope": .float(a.float("alpha", default: 0.01))])
        case "Add", "Mul": try binary(node)
        case "Concat":
            let inputs = try node.input.map { try value($0) }
            let rank = try type(inputs[0]).rank
            try add1(node, .concat, inputs, ["axis": .int(normalized(a.int("axis", default: 1), rank: rank))])
        case "Softmax":
            let x = try value(node.input[0])
            let rank = try type(x).rank
            let axis = normalized(a.int("axis", default: opset >= 13 ? -1 : 1), rank: rank)
            guard opset >= 13 || axis == rank - 1 else {
                throw unsupported(node, "Softmax over a flattened tail (opset < 13)")
            }
            try add1(node, .softmax, [x], ["axis": .int(axis)])
        case "Dropout":
            let ratio = try input(node, 1).flatMap { try constantTensor($0)?.floats.first }
            let p = opset >= 12 ? Double(ratio ?? 0.5) : a.float("ratio", default: 0.5)
            try add1(node, .dropout, [try value(node.input[0])], ["p": .float(p)])
        default: throw unsupported(node)
        }
    }

    /// Add and Mul of two computed tensors of one shape; an Add of a constant vector onto a
    /// bias-free `linear` (what MatMul + Add export) becomes that linear's bias.
    mutating func binary(_ node: Onnx_NodeProto) throws {
        guard node.input.count == 2 else { throw unsupported(node, "\(node.opType) with \(node.input.count) inputs") }
        let constantSide = node.input.firstIndex { constants[$0] != nil }
        if node.opType == "Add", let c = constantSide,
            try absorbBias(node, bias: node.input[c], into: node.input[1 - c])
        {
            return
        }
        guard constantSide == nil else { throw unsupported(node, "\(node.opType) of a tensor and a constant") }
        let lhs = try value(node.input[0]), rhs = try value(node.input[1])
        guard try type(lhs) == type(rhs) else {
            throw unsupported(node, "\(node.opType) with broadcasting (\(try type(lhs)) and \(try type(rhs)))")
        }
        try add1(node, node.opType == "Add" ? .add : .mul, [lhs, rhs])
    }

    /// Makes `bias` the bias of the bias-free linear node computing `x`, when only this Add reads it.
    mutating func absorbBias(_ node: Onnx_NodeProto, bias: String, into x: String) throws -> Bool {
        let scion = aliases[x] ?? x
        guard readers[x] == 1, let i = graph.nodes.lastIndex(where: { $0.outputs == [scion] }),
            graph.nodes[i].op == .linear, graph.nodes[i].inputs.count == 2,
            let out = try type(scion).shape.last?.fixedValue, let b = try constantTensor(bias), b.count == out
        else { return false }
        let name = try parameter(bias, role: .bias, node: nodeName(node), shape: [out])
        try replaceNode(at: i, inputs: graph.nodes[i].inputs + [name])
        aliases[node.output[0]] = scion
        return true
    }

    /// Axis `axis` of a rank-`rank` tensor, negative axes counted from the end.
    func normalized(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }
}
