import ScionGraph

/// Layers with parameters: convolutions, normalizations and dense layers.
extension GraphImporter {
    mutating func convolution(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let transposed = node.opType == "ConvTranspose"
        let x = try value(node.input[0])
        let name = nodeName(node)
        guard let w = input(node, 1), let kernel = try constantTensor(w)?.shape, kernel.count == 4 else {
            throw unsupported(node, "\(node.opType) without a constant 4-D weight")
        }
        guard !a.has("output_shape") else { throw unsupported(node, "ConvTranspose with output_shape") }
        var inputs = [x, try parameter(w, role: .weight, node: name)]
        if let b = input(node, 2) { inputs.append(try parameter(b, role: .bias, node: name)) }
        let window = try self.window(node, a, kernel: [kernel[2], kernel[3]], input: x)
        var attributes: [String: AttributeValue] = [
            "stride": .ints(window.stride), "padding": .ints(window.padding), "dilation": .ints(window.dilation),
            "groups": .int(a.int("group", default: 1))
        ]
        if transposed { attributes["output_padding"] = .ints(a.ints("output_padding") ?? [0, 0]) }
        if window.extra != nil && transposed { throw unsupported(node, "ConvTranspose with uneven pads") }
        if let extra = window.extra {
            inputs[0] = try add(name + ".pad", .pad, [x], outputs: [name + ".padded"], ["pads": .ints(extra)])[0]
        }
        try add1(node, transposed ? .convTranspose2d : .conv2d, inputs, attributes)
    }

    /// A window op's stride, symmetric padding and dilation. Uneven pads (begin ≠ end) become
    /// `extra`, a `pad` node's [top, left, bottom, right] in front of the op.
    func window(_ node: Onnx_NodeProto, _ a: ONNXAttributes, kernel: [Int], input: String) throws
        -> (stride: [Int], padding: [Int], dilation: [Int], extra: [Int]?)
    {
        let stride = a.ints("strides") ?? [1, 1], dilation = a.ints("dilations") ?? [1, 1]
        guard stride.count == 2, dilation.count == 2, kernel.count == 2 else {
            throw unsupported(node, "\(node.opType) over other than 2 spatial axes")
        }
        var pads = a.ints("pads") ?? [0, 0, 0, 0]
        switch a.string("auto_pad", default: "NOTSET") {
        case "NOTSET": break
        case "VALID": pads = [0, 0, 0, 0]
        case let mode where mode.hasPrefix("SAME") && stride == [1, 1]:
            let total = (0..<2).map { (kernel[$0] - 1) * dilation[$0] }
            let lower = mode == "SAME_LOWER"
            pads =
                (0..<2).map { lower ? (total[$0] + 1) / 2 : total[$0] / 2 }
                + (0..<2).map { total[$0] - (lower ? (total[$0] + 1) / 2 : total[$0] / 2) }
        case let mode: throw unsupported(node, "\(node.opType) with auto_pad \(mode) and strides \(stride)")
        }
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw unsupported(node, "pads \(pads)") }
        if pads[0] == pads[2] && pads[1] == pads[3] {
            return (stride, [pads[0], pads[1]], dilation, nil)
        }
        let common = [min(pads[0], pads[2]), min(pads[1], pads[3])]
        return (
            stride, common, dilation,
            [pads[0] - common[0], pads[1] - common[1], pads[2] - common[0], pads[3] - common[1]]
        )
    }

    mutating func normalization(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let x = try value(node.input[0])
        let name = nodeName(node)
        let epsilon = AttributeValue.float(a.float("epsilon", default: 1e-5))
        if node.opType == "InstanceNormalization" {
            // Ones and zeros (what Scion exports for a non-affine one) are no parameters at all.
            let scale = try constantTensor(node.input[1]), bias = try constantTensor(node.input[2])
            let identity = scale?.floats.allSatisfy { $0 == 1 } == true && bias?.floats.allSatisfy { $0 == 0 } == true
            let params =
                identity
                ? []
                : [
                    try parameter(node.input[1], role: .weight, node: name),
                    try parameter(node.input[2], role: .bias, node: name)
                ]
            try add1(node, .instanceNorm, [x] + params, ["epsilon": epsilon])
            return
        }
        guard a.int("training_mode", default: 0) == 0,
            node.output.count == 1 || node.output.dropFirst().allSatisfy({ $0.isEmpty })
        else { throw unsupported(node, "BatchNormalization in training mode") }
        let roles: [ParameterRole] = [.weight, .bias, .runningMean, .runningVar]
        let params = try (1...4).map { try parameter(node.input[$0], role: roles[$0 - 1], node: name) }
        // ONNX's momentum weighs the running statistic (0.9), PyTorch's and Scion's the batch's (0.1).
        let momentum = 1 - a.float("momentum", default: 0.9)
        try add1(node, .batchNorm, [x] + params, ["epsilon": epsilon, "momentum": .float(momentum)])
    }

    /// Gemm (`alpha·A·B' + beta·C` with A unchanged) and MatMul by a constant matrix, as `linear`.
    mutating func dense(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let name = nodeName(node)
        let x = try value(node.input[0])
        guard try type(x).rank == 2 else {
            throw unsupported(node, "\(node.opType) of a rank-\(try type(x).rank) tensor")
        }
        guard let w = input(node, 1), let shape = try constantTensor(w)?.shape, shape.count == 2 else {
            throw unsupported(node, "\(node.opType) without a constant weight matrix")
        }
        let isGemm = node.opType == "Gemm"
        guard
            !isGemm
                || (a.int("transA", default: 0) == 0 && a.float("alpha", default: 1) == 1
                    && a.float("beta", default: 1) == 1)
        else { throw unsupported(node, "Gemm with transA, alpha or beta") }
        // Scion's linear weight is [out, in], as Gemm's B with transB = 1; MatMul's is [in, out].
        let transposed = !(isGemm && a.int("transB", default: 0) == 1)
        var inputs = [x, try parameter(w, role: .weight, node: name, transposed: transposed)]
        let out = transposed ? shape[1] : shape[0]
        if isGemm, let c = input(node, 2) { inputs.append(try parameter(c, role: .bias, node: name, shape: [out])) }
        try add1(node, .linear, inputs)
    }
}
