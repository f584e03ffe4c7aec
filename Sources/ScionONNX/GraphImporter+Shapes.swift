import ScionGraph

/// Pooling and the ops that change a tensor's shape.
extension GraphImporter {
    mutating func pooling(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let x = try value(node.input[0])
        switch node.opType {
        case "GlobalAveragePool": try add1(node, .globalAvgPool, [x])
        case "ReduceMean": try reduceMean(node, a, x)
        default:
            guard let kernel = a.ints("kernel_shape") else {
                throw unsupported(node, "\(node.opType) without kernel_shape")
            }
            let window = try self.window(node, a, kernel: kernel, input: x)
            guard window.extra == nil else { throw unsupported(node, "\(node.opType) with uneven pads") }
            var attributes: [String: AttributeValue] = [
                "kernel": .ints(kernel), "stride": .ints(window.stride), "padding": .ints(window.padding),
                "ceil_mode": .bool(a.int("ceil_mode", default: 0) != 0)
            ]
            if node.opType == "MaxPool" {
                attributes["dilation"] = .ints(window.dilation)
                try add1(node, .maxPool2d, [x], attributes)
            } else {
                guard window.dilation == [1, 1] else { throw unsupported(node, "AveragePool with dilations") }
                attributes["count_include_pad"] = .bool(a.int("count_include_pad", default: 0) != 0)
                try add1(node, .avgPool2d, [x], attributes)
            }
        }
    }

    /// ReduceMean over the two spatial axes of an NCHW tensor is global average pooling.
    mutating func reduceMean(_ node: Onnx_NodeProto, _ a: ONNXAttributes, _ x: String) throws {
        let rank = try type(x).rank
        let axes = try (opset >= 18 ? input(node, 1).map { try integers($0, node) } : a.ints("axes")) ?? []
        guard rank == 4, Set(axes.map { normalized($0, rank: rank) }) == [2, 3] else {
            throw unsupported(
                node, "ReduceMean over axes \(axes) of a rank-\(rank) tensor (Scion reduces H and W only)")
        }
        guard a.int("keepdims", default: 1) == 0 else { try add1(node, .globalAvgPool, [x]); return }
        let name = nodeName(node)
        let pooled = try add(name + ".pool", .globalAvgPool, [x], outputs: [name + ".pooled"])[0]
        try add(name, .flatten, [pooled], outputs: [node.output[0]])
    }

    mutating func reshaping(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let x = try value(node.input[0])
        let shape = try type(x).shape
        switch node.opType {
        case "Flatten":
            guard normalized(a.int("axis", default: 1), rank: shape.count) == 1 else {
                throw unsupported(node, "Flatten at an axis other than 1")
            }
            try add1(node, .flatten, [x])
        case "Reshape": try reshape(node, a, x, shape)
        default: try pad(node, a, x)
        }
    }

    /// Reshape to a target that keeps the batch first: `flatten` for `[N, -1]`, else `reshape`.
    /// The batch extent may be spelled `0` (copy), `-1` (the rest), the Shape of a tensor, or the
    /// batch size a static export fixed.
    mutating func reshape(_ node: Onnx_NodeProto, _ a: ONNXAttributes, _ x: String, _ shape: [Dim]) throws {
        guard let targetName = input(node, 1) else { throw unsupported(node, "Reshape without a shape") }
        let target: [Int?] = try folded[targetName]?.values ?? integers(targetName, node).map { $0 }
        let copies = a.int("allowzero", default: 0) == 0
        let spelled = target.map { $0.map(String.init) ?? "N" }
        let batchFirst: Bool
        switch target.first {
        case .some(nil): batchFirst = true
        case .some(let d?): batchFirst = (d == 0 && copies) || d == -1 || d == exportBatch
        case .none: batchFirst = false
        }
        var sample: [Int] = []
        for (i, d) in target.enumerated().dropFirst() {
            guard let d else { throw unsupported(node, "Reshape to \(spelled) (the batch must stay first)") }
            sample.append(d == 0 && copies && i < shape.count ? shape[i].fixedValue ?? 0 : d)
        }
        let perSample = ShapeRules.elementCount(shape.dropFirst().compactMap(\.fixedValue)) ?? 0
        let known = sample.filter { $0 != -1 }.reduce(1, *)
        if let rest = sample.firstIndex(of: -1), known > 0 { sample[rest] = perSample / known }
        guard batchFirst, ShapeRules.elementCount(sample) == perSample else {
            throw unsupported(node, "Reshape of \(shape) to \(spelled) (the batch must stay first)")
        }
        if sample.count == 1 && shape.count > 2 {
            try add1(node, .flatten, [x])
        } else {
            try add1(node, .reshape, [x], ["shape": .ints(sample)])
        }
    }

    /// Constant padding of H and W.
    mutating func pad(_ node: Onnx_NodeProto, _ a: ONNXAttributes, _ x: String) throws {
        guard a.string("mode", default: "constant") == "constant" else {
            throw unsupported(node, "Pad in mode \(a.string("mode", default: ""))")
        }
        guard let padsName = input(node, 1) else { throw unsupported(node, "Pad without pads") }
        var pads = try integers(padsName, node)
        let rank = try type(x).rank
        if let axesName = input(node, 3) {
            // opset 18: pads given for `axes` only.
            let axes = try integers(axesName, node).map { normalized($0, rank: rank) }
            var full = [Int](repeating: 0, count: 2 * rank)
            for (i, axis) in axes.enumerated() where axis < rank {
                full[axis] = pads[i]
                full[rank + axis] = pads[axes.count + i]
            }
            pads = full
        }
        guard rank == 4, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw unsupported(node, "Pad of other than H and W (pads \(pads))")
        }
        let value = try input(node, 2).flatMap { try constantTensor($0)?.floats.first } ?? 0
        try add1(node, .pad, [x], ["pads": .ints([pads[2], pads[3], pads[6], pads[7]]), "value": .float(Double(value))])
    }
}
