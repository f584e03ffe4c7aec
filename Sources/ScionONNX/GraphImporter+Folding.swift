import ScionGraph

/// Ops evaluated at import time: constants and the integer arithmetic exporters write in front
/// of a Reshape or a Pad (`Shape → Gather → Unsqueeze → Concat`; torch's legacy exporter turns
/// `F.pad`'s list into pads with ConstantOfShape, Reshape, a reversing Slice and Transpose).
extension GraphImporter {
    static let foldable: Set<String> = [
        "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Slice", "Cast", "Concat", "Reshape", "Transpose",
        "ConstantOfShape", "Identity"
    ]

    /// Whether `node` computes on import-time integers only (or reads a shape).
    func isFoldable(_ node: Onnx_NodeProto) -> Bool {
        guard Self.foldable.contains(node.opType) else { return false }
        if ["Constant", "Shape", "Identity"].contains(node.opType) { return true }
        return node.input.allSatisfy { $0.isEmpty || folded[$0] != nil || isIntegerConstant($0) }
    }

    func isIntegerConstant(_ name: String) -> Bool {
        guard let c = constants[name] else { return false }
        return c.dataType == ONNXTensor.int64 || c.dataType == ONNXTensor.int32
    }

    mutating func fold(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let out = node.output[0]
        switch node.opType {
        case "Constant": try constant(node, a)
        case "Identity":
            if let c = constants[node.input[0]] {
                constants[out] = c
            } else if let f = folded[node.input[0]] {
                folded[out] = f
            } else {
                aliases[out] = try value(node.input[0])
            }
        case "Shape":
            let shape = try type(try value(node.input[0])).shape.map(\.fixedValue)
            let rank = shape.count
            let start = max(0, min(rank, normalized(a.int("start", default: 0), rank: rank)))
            let end = max(start, min(rank, normalized(a.int("end", default: rank), rank: rank)))
            folded[out] = Folded(Array(shape[start..<end]))
        default: folded[out] = try foldArithmetic(node, a)
        }
    }

    /// The shape-changing and indexing ops on folded tensors.
    func foldArithmetic(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws -> Folded {
        let x = try foldedInput(node, 0)
        switch node.opType {
        case "Cast": return x
        case "Unsqueeze", "Squeeze":
            let axes = try input(node, 1).map { try integers($0, node) } ?? a.ints("axes")
            return Folded(
                shape: try FoldedShapes.squeezed(x.shape, axes: axes, unsqueeze: node.opType == "Unsqueeze"),
                values: x.values)
        case "Concat":
            let parts = try node.input.indices.map { try foldedInput(node, $0) }
            return try FoldedShapes.concat(parts, axis: a.int("axis", default: 0))
        case "Gather":
            return try FoldedShapes.gather(x, indices: try foldedInput(node, 1), axis: a.int("axis", default: 0))
        case "Reshape":
            return try FoldedShapes.reshape(
                x, to: try integers(node.input[1], node), allowZero: a.int("allowzero", default: 0) != 0)
        case "Transpose":
            return try FoldedShapes.transpose(x, perm: a.ints("perm") ?? Array((0..<x.shape.count).reversed()))
        case "ConstantOfShape":
            let shape = try integers(node.input[0], node)
            let fill = try a.tensor("value").map { try ONNXTensor.integers($0).first ?? 0 } ?? 0
            return Folded(shape: shape, values: Array(repeating: fill, count: ShapeRules.elementCount(shape) ?? 0))
        case "Slice": return try slice(node, x)
        default: throw unsupported(node)
        }
    }

    /// Slice along any axes with any steps (starts, ends, axes, steps as inputs since opset 10).
    func slice(_ node: Onnx_NodeProto, _ x: Folded) throws -> Folded {
        let starts = try integers(node.input[1], node), ends = try integers(node.input[2], node)
        let axes = try input(node, 3).map { try integers($0, node) } ?? Array(0..<starts.count)
        let steps = try input(node, 4).map { try integers($0, node) } ?? Array(repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw ONNXError.invalid("node '\(nodeName(node))': Slice's starts, ends, axes and steps differ in length")
        }
        var result = x
        for i in starts.indices {
            result = try FoldedShapes.slice(
                result, axis: normalized(axes[i], rank: x.shape.count), start: starts[i], end: ends[i], step: steps[i])
        }
        return result
    }

    /// Constant: a tensor (kept as a constant, a weight or folded integers) or scalars and lists.
    mutating func constant(_ node: Onnx_NodeProto, _ a: ONNXAttributes) throws {
        let out = node.output[0]
        if var t = a.tensor("value") {
            t.name = out
            constants[out] = t
            if isIntegerConstant(out) {
                folded[out] = Folded(shape: try ONNXTensor.dims(t), values: try ONNXTensor.integers(t))
            }
        } else if a.has("value_int") || a.has("value_ints") {
            folded[out] =
                a.ints("value_ints").map { Folded($0) } ?? Folded(shape: [], values: [a.int("value_int", default: 0)])
        } else if a.has("value_float") || a.has("value_floats") {
            let values = (a.floats("value_floats") ?? [a.float("value_float", default: 0)]).map(Float.init)
            constants[out] = ONNXTensor.floatProto(values, dims: a.has("value_float") ? [] : [values.count], name: out)
        } else {
            throw unsupported(node, "Constant of this kind")
        }
    }

    /// Input `i` of `node` as a folded tensor.
    func foldedInput(_ node: Onnx_NodeProto, _ i: Int) throws -> Folded {
        let name = node.input[i]
        if let f = folded[name] { return f }
        guard let c = constants[name], isIntegerConstant(name) else {
            throw unsupported(node, "\(node.opType) of '\(name)', a tensor computed at run time")
        }
        return Folded(shape: try ONNXTensor.dims(c), values: try ONNXTensor.integers(c))
    }

    /// The integers of a folded or constant tensor (pads, axes, shapes); the batch is an error.
    func integers(_ name: String, _ node: Onnx_NodeProto) throws -> [Int] {
        if let f = folded[name] {
            guard f.values.allSatisfy({ $0 != nil }) else {
                throw unsupported(node, "\(node.opType) with '\(name)' depending on the batch size")
            }
            return f.values.compactMap { $0 }
        }
        guard let proto = constants[name] else {
            throw unsupported(node, "\(node.opType) with '\(name)' computed at run time")
        }
        return try ONNXTensor.integers(proto)
    }
}
