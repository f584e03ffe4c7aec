import ScionCompiler
import ScionGraph
import ScionKernels

/// Kernel steps for the training ops; nil sends an op to the reference fallback.
extension Lowering {
    mutating func lowerTraining(_ node: OpView) throws -> (Pending, Int)? {
        let i = nodeIndex, threads = threads
        let ins = node.node.inputs, outs = node.node.outputs
        let x = ins.first ?? ""
        switch node.op {
        case .batchNormTrain:
            let c = shape(ins[1])[0], rows = type(x).elementsPerSample / c
            let eps = Float(node.float("epsilon")), momentum = Float(node.float("momentum"))
            let params = ins[1...4].map(parameter), act = activation(node)
            return (
                { r in
                    BatchNormTrainStep(
                        x: r[x], outputs: outs.map { r[$0] }, parameters: params, channels: c, rowsPerSample: rows,
                        epsilon: eps, momentum: momentum, activation: act, threads: threads, workspace: r.workspace(i)!)
                }, BatchNormTrainStep.scratch(channels: c, threads: threads).layout.floats
            )
        case .batchNormTrainGrad:
            let c = shape(ins[2])[0], rows = type(x).elementsPerSample / c
            let slope: Float? =
                switch activation(node) {
                case .relu: 0
                case .leakyRelu(let s): s
                default: nil
                }
            let residual = node.bool("has_residual")
            return (
                { r in
                    BatchNormTrainGradStep(
                        inputs: ins.map { r[$0] }, outputs: outs.map { r[$0] }, slope: slope, hasResidual: residual,
                        channels: c,
                        rowsPerSample: rows, threads: threads, workspace: r.workspace(i)!)
                }, BatchNormTrainGradStep.scratch(channels: c, threads: threads).layout.floats
            )
        case .batchNormEvalGrad:
            let c = shape(ins[1])[0], rows = type(x).elementsPerSample / c, eps = Float(node.float("epsilon"))
            return (
                { r in
                    BatchNormEvalGradStep(
                        dy: r[x], dx: r[outs[0]], scale: r[ins[1]], variance: r[ins[2]], channels: c,
                        rowsPerSample: rows,
                        epsilon: eps, workspace: r.workspace(i)!)
                }, c
            )
        case .channelSum:
            let c = shape(x)[1], rows = type(x).elementsPerSample / c
            return (
                { r in
                    ChannelSumStep(
                        x: r[x], y: r[outs[0]], channels: c, rowsPerSample: rows, threads: threads,
                        workspace: r.workspace(i)!)
                }, ChannelSumStep.scratch(channels: c, threads: threads).layout.floats
            )
        case .conv2dGradWeight, .conv2dGradWeightBias:
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
        case .conv2dGradInput:
            let dys = shape(ins[0]), dxs = shape(outs[0])
            let g = Geometry.conv(node, dxs, dys, type(ins[1]))
            guard let w = parameterOrNil(ins[1]) else { return nil }
            let kernel = ConvInputGradient(geometry: g, weight: w)
            return (
                { r in
                    ConvInputGradientStep(kernel, dy: r[ins[0]], dx: r[outs[0]], workspace: r.workspace(i)!, weight: w)
                },
                kernel.workspacePerThread * threads
            )
        case .linearGradInput, .linearGradWeight:
            let weightGradient = node.op == .linearGradWeight
            let features = weightGradient ? (shape(ins[0])[1], shape(ins[1])[1]) : (shape(outs[0])[1], shape(ins[0])[1])
            return (
                { r in
                    LinearGradientStep(
                        weightGradient: weightGradient, a: r[ins[0]], b: r[ins[1]], out: r[outs[0]],
                        inFeatures: features.0, outFeatures: features.1)
                }, 0
            )
        case .reluGrad, .leakyReluGrad, .sigmoidGrad, .tanhGrad:
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
        case .dropoutTrain:
            let xs = shape(x), p = Float(node.float("p"))
            let channelsLast = PhysicalLayout.isChannelsLast(type(x))
            let channels = channelsLast ? xs[1] : 1, plane = channelsLast ? xs[2] * xs[3] : 1
            let perSample = type(x).elementsPerSample, name = node.name
            return (
                { r in
                    DropoutTrainStep(
                        x: r[x], y: r[outs[0]], mask: r[outs[1]], node: name, p: p, channels: channels, plane: plane,
                        perSample: perSample)
                }, 0
            )
        case .maxPool2dGrad, .avgPool2dGrad, .globalAvgPoolGrad:
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
        case .crossEntropy, .crossEntropyGrad, .mseLoss, .mseLossGrad, .l1Loss, .l1LossGrad, .tvLoss, .tvLossGrad:
            return lowerLoss(node)
        case .weightedSum:
            let weights = node.floats("weights").map { Float($0) }
            return ({ r in WeightedSumStep(terms: ins.map { r[$0] }, weights: weights, out: r[outs[0]]) }, 0)
        default:
            return nil
        }
    }

    private func lowerLoss(_ node: OpView) -> (Pending, Int) {
        let ins = node.node.inputs, out = node.node.output
        // Only the gradients declare `scale`.
        var scale: Float { Float(node.float("scale")) }
        let kind: LossStep.Kind =
            switch node.op {
            case .crossEntropy: .crossEntropy
            case .crossEntropyGrad: .crossEntropyGrad(scale)
            case .mseLoss: .meanError(squared: true)
            case .l1Loss: .meanError(squared: false)
            case .mseLossGrad: .meanErrorGrad(squared: true, scale)
            case .l1LossGrad: .meanErrorGrad(squared: false, scale)
            case .tvLoss: .tv
            default: .tvGrad(scale)
            }
        let perSample = type(ins[0]).elementsPerSample, s = shape(ins[0])
        return (
            { r in
                LossStep(
                    kind, p: r[ins[0]], t: ins.count > 1 ? r[ins[1]] : nil, out: r[out], perSample: perSample, shape: s)
            }, 0
        )
    }

    func parameterOrNil(_ name: String) -> UnsafeMutablePointer<Float>? { store.pointer(name) }
}

/// Keys of dropout masks, shared with the reference semantics.
enum DropoutKeys {
    static func key(seed: UInt64, node: String) -> UInt64 { NodeEvaluator.dropoutKey(seed: seed, node: node) }
}
