import ScionGraph

/// The backward rule of every differentiable op: given a node and the gradient of its (first)
/// output, emit the nodes computing the gradients of the inputs that need one.
extension TrainingGraphBuilder {
    mutating func differentiate(_ node: Node, dy: String) throws {
        if try differentiateLayer(node, dy: dy) { return }
        if try differentiateElementwise(node, dy: dy) { return }
        throw GraphError.shape(node: node.name, problem: "op '\(node.op)' has no gradient")
    }

    /// Convolutions, linear layers and normalisations: weight, bias and input gradients.
    private mutating func differentiateLayer(_ node: Node, dy: String) throws -> Bool {
        let name = "grad:\(node.name)"
        let x = node.inputs.first ?? ""
        let windowAttributes = node.attributes.filter { ["stride", "padding", "dilation", "groups"].contains($0.key) }
        switch node.op {
        case .conv2d:
            if wants(x) {
                var attributes = windowAttributes
                attributes["input_shape"] = .ints(sampleShape(x))
                contribute(emit("\(name):x", .conv2dGradInput, [dy, node.inputs[1]], attributes: attributes), to: x)
            }
            try weightAndBiasGradients(
                node, name: name, dy: dy,
                weightGradient: { b in
                    var attributes = windowAttributes
                    attributes["kernel"] = .ints(Array(b.forward.values[node.inputs[1]]!.sampleShape.suffix(2)))
                    return b.emit("\(name):w", .conv2dGradWeight, [x, dy], attributes: attributes)
                })
        case .convTranspose2d:
            // d/dx of a transposed convolution is the convolution with the same weight; its
            // weight gradient is a convolution weight gradient with the roles of x and dy swapped.
            if wants(x) {
                contribute(emit("\(name):x", .conv2d, [dy, node.inputs[1]], attributes: windowAttributes), to: x)
            }
            try weightAndBiasGradients(
                node, name: name, dy: dy,
                weightGradient: { b in
                    var attributes = windowAttributes
                    attributes["kernel"] = .ints(Array(b.forward.values[node.inputs[1]]!.sampleShape.suffix(2)))
                    return b.emit("\(name):w", .conv2dGradWeight, [dy, x], attributes: attributes)
                })
        case .linear:
            if wants(x) { contribute(emit("\(name):x", .linearGradInput, [dy, node.inputs[1]]), to: x) }
            try weightAndBiasGradients(
                node, name: name, dy: dy,
                weightGradient: { b in
                    b.emit("\(name):w", .linearGradWeight, [x, dy])
                })
        case .batchNormTrain:
            guard [0, 1, 2].contains(where: { wants(node.inputs[$0]) }) else { return true }
            let grads = emitMulti(
                name, .batchNormTrainGrad, [dy, x, node.inputs[1], node.outputs[1], node.outputs[2]], outputs: 3)
            for (i, grad) in grads.enumerated() where wants(node.inputs[i]) { contribute(grad, to: node.inputs[i]) }
        case .batchNorm:
            try batchNormEvalGradients(node, name: name, dy: dy)
        case .instanceNorm:
            let inputs = [dy, x] + (node.view.input("scale").map { [$0] } ?? [])
            let attributes = node.attributes.filter { $0.key == "epsilon" }
            let grads = emitMulti(name, .instanceNormGrad, inputs, outputs: 3, attributes: attributes)
            for (i, grad) in grads.enumerated() where i < node.inputs.count && wants(node.inputs[i]) {
                contribute(grad, to: node.inputs[i])
            }
        default:
            return false
        }
        return true
    }

    /// Activations, arithmetic and the ops that only move or pool values.
    private mutating func differentiateElementwise(_ node: Node, dy: String) throws -> Bool {
        let name = "grad:\(node.name)"
        let x = node.inputs.first ?? ""
        switch node.op {
        case .relu, .sigmoid, .tanh, .leakyRelu:
            guard wants(x) else { return true }
            let op: OpType = [
                OpType.relu: .reluGrad, .sigmoid: .sigmoidGrad, .tanh: .tanhGrad, .leakyRelu: .leakyReluGrad
            ][node.op]!
            contribute(emit("\(name):x", op, [dy, node.output], attributes: node.attributes), to: x)
        case .add:
            for input in node.inputs where wants(input) { contribute(dy, to: input) }
        case .mul:
            if wants(node.inputs[0]) { contribute(emit("\(name):a", .mul, [dy, node.inputs[1]]), to: node.inputs[0]) }
            if wants(node.inputs[1]) { contribute(emit("\(name):b", .mul, [dy, node.inputs[0]]), to: node.inputs[1]) }
        case .concat:
            let axis = node.view.int("axis")
            var start = 0
            for input in node.inputs {
                let length = g.values[input]!.shape[axis].fixedValue ?? 0
                if wants(input) {
                    let attributes: [String: AttributeValue] = [
                        "axis": .int(axis), "start": .int(start), "length": .int(length)
                    ]
                    contribute(emit("\(name):\(input)", .slice, [dy], attributes: attributes), to: input)
                }
                start += length
            }
        case .maxPool2d:
            if wants(x) { contribute(emit("\(name):x", .maxPool2dGrad, [dy, x], attributes: node.attributes), to: x) }
        case .avgPool2d:
            guard wants(x) else { return true }
            var attributes = node.attributes
            attributes["input_shape"] = .ints(sampleShape(x))
            contribute(emit("\(name):x", .avgPool2dGrad, [dy], attributes: attributes), to: x)
        case .globalAvgPool:
            if wants(x) {
                contribute(
                    emit("\(name):x", .globalAvgPoolGrad, [dy], attributes: ["input_shape": .ints(sampleShape(x))]),
                    to: x)
            }
        case .flatten, .reshape:
            if wants(x) {
                contribute(emit("\(name):x", .reshape, [dy], attributes: ["shape": .ints(sampleShape(x))]), to: x)
            }
        case .pad:
            // The input's gradient is dy cropped back: the same op with the pads negated.
            let crop = node.view.ints("pads").map { -$0 }
            if wants(x) { contribute(emit("\(name):x", .pad, [dy], attributes: ["pads": .ints(crop)]), to: x) }
        case .dropout:
            if wants(x) { contribute(dy, to: x) }
        case .dropoutTrain:
            if wants(x) { contribute(emit("\(name):x", .mul, [dy, node.outputs[1]]), to: x) }
        case .softmax:
            if wants(x) {
                contribute(emit("\(name):x", .softmaxGrad, [dy, node.output], attributes: node.attributes), to: x)
            }
        default:
            return false
        }
        return true
    }

    /// Weight gradient (from `weightGradient`) and bias gradient (channel sum of dy).
    private mutating func weightAndBiasGradients(
        _ node: Node, name: String, dy: String, weightGradient: (inout TrainingGraphBuilder) -> String
    ) throws {
        if wants(node.inputs[1]) { contribute(weightGradient(&self), to: node.inputs[1]) }
        if let bias = node.view.input("bias"), wants(bias) {
            contribute(emit("\(name):b", .channelSum, [dy]), to: bias)
        }
    }

    /// BatchNorm on running statistics: `y = x̂ · scale + bias` with x̂ fixed by the statistics.
    private mutating func batchNormEvalGradients(_ node: Node, name: String, dy: String) throws {
        let x = node.inputs[0]
        let epsilon = node.attributes.filter { $0.key == "epsilon" }
        if wants(x) {
            contribute(
                emit("\(name):x", .batchNormEvalGrad, [dy, node.inputs[1], node.inputs[4]], attributes: epsilon), to: x)
        }
        if wants(node.inputs[1]) {
            // x̂ is this BatchNorm with scale 1 and bias 0.
            let c = forward.values[node.inputs[1]]!.sampleShape[0]
            let ones = addConstant("\(node.name):ones", Array(repeating: 1, count: c))
            let zeros = addConstant("\(node.name):zeros", Array(repeating: 0, count: c))
            let normalized = emit(
                "\(name):xhat", .batchNorm, [x, ones, zeros, node.inputs[3], node.inputs[4]],
                attributes: node.attributes)
            contribute(
                emit("\(name):scale", .channelSum, [emit("\(name):dy_xhat", .mul, [dy, normalized])]),
                to: node.inputs[1])
        }
        if wants(node.inputs[2]) { contribute(emit("\(name):bias", .channelSum, [dy]), to: node.inputs[2]) }
    }

    /// A constant parameter of the training graph; its data is `constants[name]`.
    mutating func addConstant(_ name: String, _ values: [Float]) -> String {
        let info = ParameterInfo(name: name, shape: [values.count], role: .constant, trainable: false)
        g.parameters.append(info)
        g.values[name] = info.type
        constants[name] = Tensor(shape: [values.count], values: values)
        return name
    }
}
