import ScionCompiler
import ScionGraph
import ScionKernels

/// Kernel steps for the gradients of convolutions, linear layers, activations and pooling.
extension Lowering {
    func lowerConvWeightGradient(_ node: OpView) -> (Pending, Int)? {
        let i = nodeIndex, threads = threads
        let ins = node.node.inputs, outs = node.node.outputs
        // The first output is the weight's gradient: its type is the weight's.
        let xs = shape(ins[0]), dys = shape(ins[1])
        let kernel = ConvWeightGradient(geometry: Geometry.conv(node, xs, dys, type(outs[0])))
        return (
            { r in
                ConvWeightGradientStep(
                    kernel, x: r[ins[0]], dy: r[ins[1]], dw: r[outs[0]], db: outs.count > 1 ? r[outs[1]] : nil,
                    workspace: r.workspace(i)!)
            }, kernel.workspaceCount(parts: threads)
        )
    }

    func lowerConvInputGradient(_ node: OpView) -> (Pending, Int)? {
        let i = nodeIndex, threads = threads
        let ins = node.node.inputs, outs = node.node.outputs
        let dys = shape(ins[0]), dxs = shape(outs[0])
        let g = Geometry.conv(node, dxs, dys, type(ins[1]))
        guard let w = parameterOrNil(ins[1]) else { return nil }
        let kernel = ConvInputGradient(geometry: g, weight: w, precision: precision)
        return (
            { r in
                ConvInputGradientStep(kernel, dy: r[ins[0]], dx: r[outs[0]], workspace: r.workspace(i)!, weight: w)
            },
            kernel.workspacePerThread * threads
        )
    }

    func lowerLinearGradient(_ node: OpView) -> (Pending, Int)? {
        let ins = node.node.inputs, outs = node.node.outputs
        let weightGradient = node.op == .linearGradWeight
        let features = weightGradient ? (shape(ins[0])[1], shape(ins[1])[1]) : (shape(outs[0])[1], shape(ins[0])[1])
        return (
            { r in
                LinearGradientStep(
                    weightGradient: weightGradient, a: r[ins[0]], b: r[ins[1]], out: r[outs[0]],
                    inFeatures: features.0, outFeatures: features.1)
            }, 0
        )
    }

    func lowerActivationGradient(_ node: OpView) -> (Pending, Int)? {
        let ins = node.node.inputs, outs = node.node.outputs
        let x = node.node.inputs.first ?? ""
        let kind: ActivationGradient.Kind =
            switch node.op {
            case .reluGrad: .relu
            case .leakyReluGrad: .leakyRelu(Float(node.float("slope")))
            case .sigmoidGrad: .sigmoid
            default: .tanh
            }
        let count = type(x).elementsPerSample
        return (
            { r in
                ActivationGradientStep(kind, dy: r[ins[0]], y: r[ins[1]], dx: r[outs[0]], elementsPerSample: count)
            }, 0
        )
    }

    func lowerPoolGradient(_ node: OpView) -> (Pending, Int)? {
        let ins = node.node.inputs, outs = node.node.outputs
        guard PhysicalLayout.isChannelsLast(type(outs[0])) else { return nil }
        let dxs = shape(outs[0]), dys = shape(ins[0])
        let g =
            node.op == .globalAvgPoolGrad
            ? ConvGeometry(
                batch: maxBatch, inChannels: dxs[1], inHeight: dxs[2], inWidth: dxs[3], outChannels: dxs[1],
                outHeight: 1, outWidth: 1, kernelHeight: dxs[2], kernelWidth: dxs[3])
            : Geometry.pool(node, dxs, dys)
        let kind: PoolGradientStep.Kind =
            switch node.op {
            case .maxPool2dGrad: .max
            case .avgPool2dGrad: .average(includePad: node.bool("count_include_pad"))
            default: .global
            }
        let xName = node.op == .maxPool2dGrad ? ins[1] : nil
        return (
            { r in PoolGradientStep(kind, dy: r[ins[0]], x: xName.map { r[$0] }, dx: r[outs[0]], geometry: g) }, 0
        )
    }
}
