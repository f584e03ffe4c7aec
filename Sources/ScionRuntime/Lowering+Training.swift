import ScionCompiler
import ScionGraph
import ScionKernels

/// Kernel steps for the training ops; nil sends an op to the reference fallback.
extension Lowering {
    mutating func lowerTraining(_ node: OpView) throws -> (Pending, Int)? {
        switch node.op {
        case .batchNormTrain: return lowerBatchNormTrain(node)
        case .batchNormTrainGrad: return lowerBatchNormTrainGrad(node)
        case .batchNormEvalGrad: return lowerBatchNormEvalGrad(node)
        case .channelSum: return lowerChannelSum(node)
        case .conv2dGradWeight, .conv2dGradWeightBias: return lowerConvWeightGradient(node)
        case .conv2dGradInput: return lowerConvInputGradient(node)
        case .linearGradInput, .linearGradWeight: return lowerLinearGradient(node)
        case .reluGrad, .leakyReluGrad, .sigmoidGrad, .tanhGrad: return lowerActivationGradient(node)
        case .dropoutTrain: return lowerDropoutTrain(node)
        case .maxPool2dGrad, .avgPool2dGrad, .globalAvgPoolGrad: return lowerPoolGradient(node)
        case .crossEntropy, .crossEntropyGrad, .mseLoss, .mseLossGrad, .l1Loss, .l1LossGrad, .tvLoss, .tvLossGrad:
            return lowerLoss(node)
        case .weightedSum:
            let ins = node.node.inputs, out = node.node.output, weights = node.floats("weights").map { Float($0) }
            return ({ r in WeightedSumStep(terms: ins.map { r[$0] }, weights: weights, out: r[out]) }, 0)
        default:
            return nil
        }
    }

    private func lowerBatchNormTrain(_ node: OpView) -> (Pending, Int)? {
        let i = nodeIndex, threads = threads
        let ins = node.node.inputs, outs = node.node.outputs
        let x = node.node.inputs.first ?? ""
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
    }

    private func lowerBatchNormTrainGrad(_ node: OpView) -> (Pending, Int)? {
        let i = nodeIndex, threads = threads
        let ins = node.node.inputs, outs = node.node.outputs
        let x = node.node.inputs.first ?? ""
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
    }

    private func lowerBatchNormEvalGrad(_ node: OpView) -> (Pending, Int)? {
        let i = nodeIndex
        let ins = node.node.inputs, outs = node.node.outputs
        let x = node.node.inputs.first ?? ""
        let c = shape(ins[1])[0], rows = type(x).elementsPerSample / c, eps = Float(node.float("epsilon"))
        return (
            { r in
                BatchNormEvalGradStep(
                    dy: r[x], dx: r[outs[0]], scale: r[ins[1]], variance: r[ins[2]], channels: c,
                    rowsPerSample: rows,
                    epsilon: eps, workspace: r.workspace(i)!)
            }, c
        )
    }

    private func lowerChannelSum(_ node: OpView) -> (Pending, Int)? {
        let i = nodeIndex, threads = threads
        let outs = node.node.outputs
        let x = node.node.inputs.first ?? ""
        let c = shape(x)[1], rows = type(x).elementsPerSample / c
        return (
            { r in
                ChannelSumStep(
                    x: r[x], y: r[outs[0]], channels: c, rowsPerSample: rows, threads: threads,
                    workspace: r.workspace(i)!)
            }, ChannelSumStep.scratch(channels: c, threads: threads).layout.floats
        )
    }

    private func lowerDropoutTrain(_ node: OpView) -> (Pending, Int)? {
        let outs = node.node.outputs
        let x = node.node.inputs.first ?? ""
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
