import ScionGraph
import ScionKernels

/// Reference semantics of the training ops (see `Ops+Training.swift`).
extension NodeEvaluator {
    static func evaluateTraining(
        _ node: OpView, _ a: [[Float]], _ t: [TensorType], _ outs: [TensorType], batch: Int, seed: UInt64
    ) throws -> [[Float]] {
        for family in [evaluateLayerGradients, evaluateElementwiseGradients, evaluateLosses] {
            if let result = try family(node, a, t, outs, batch, seed) { return result }
        }
        throw EvaluationError.unsupported(node: node.name, op: node.op.rawValue)
    }

    /// Convolution and linear gradients, BatchNorm in training, channel sums.
    static func evaluateLayerGradients(
        _ node: OpView, _ a: [[Float]], _ t: [TensorType], _ outs: [TensorType], batch: Int, seed: UInt64
    ) throws -> [[Float]]? {
        let xs = t[0].resolvedShape(batch: batch)
        let plane = { (s: [Int]) in s.dropFirst(2).reduce(1, *) }
        switch node.op {
        case .batchNormTrain:
            let r = ReferenceKernels.batchNormTrain(
                a[0], channels: xs[1], plane: plane(xs), scale: a[1], bias: a[2], runningMean: a[3], runningVar: a[4],
                epsilon: Float(node.float("epsilon")), momentum: Float(node.float("momentum")))
            return [epilogue(node, r.y), r.mean, r.invstd, r.runningMean, r.runningVar]
        case .dropoutTrain:
            let p = Float(node.float("p")), key = dropoutKey(seed: seed, node: node.name)
            let mask = a[0].indices.map { ReferenceKernels.dropoutMask(key: key, index: $0, p: p) }
            return [zip(a[0], mask).map(*), mask]
        case .conv2dGradInput:
            let dx = outs[0].resolvedShape(batch: batch)
            var g = Geometry.conv(node, dx, xs, t[1])
            g.batch = xs[0]
            // dx = conv_transpose(dy, W): the transposed geometry swaps the roles of x and y.
            let transposed = ConvGeometry(
                batch: xs[0], inChannels: xs[1], inHeight: xs[2], inWidth: xs[3], outChannels: dx[1], outHeight: dx[2],
                outWidth: dx[3], kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, strideH: g.strideH,
                strideW: g.strideW,
                padH: g.padH, padW: g.padW, dilationH: g.dilationH, dilationW: g.dilationW, groups: g.groups)
            return [ReferenceKernels.convTranspose2d(a[0], a[1], nil, transposed)]
        case .conv2dGradWeight, .conv2dGradWeightBias:
            // The first output is the weight's gradient: its type is the weight's.
            let dy = t[1].resolvedShape(batch: batch)
            let dw = ReferenceKernels.conv2dGradWeight(a[0], a[1], Geometry.conv(node, xs, dy, outs[0]))
            return node.op == .conv2dGradWeight
                ? [dw] : [dw, ReferenceKernels.channelSum(a[1], channels: dy[1], plane: plane(dy))]
        case .linearGradInput:
            let outF = xs[1], inF = t[1].resolvedShape(batch: batch)[1]
            return [
                (0..<(xs[0] * inF)).map { idx in
                    let n = idx / inF, i = idx % inF
                    return (0..<outF).reduce(Float(0)) { $0 + a[0][n * outF + $1] * a[1][$1 * inF + i] }
                }
            ]
        case .linearGradWeight:
            let inF = xs[1], outF = t[1].resolvedShape(batch: batch)[1]
            return [
                (0..<(outF * inF)).map { idx in
                    let o = idx / inF, i = idx % inF
                    return (0..<xs[0]).reduce(Float(0)) { $0 + a[1][$1 * outF + o] * a[0][$1 * inF + i] }
                }
            ]
        case .channelSum:
            return [ReferenceKernels.channelSum(a[0], channels: xs[1], plane: plane(xs))]
        case .batchNormTrainGrad:
            var dy = a[0]
            if let bias = node.argument("bias", in: a) {
                // The forward activation's mask, from the BatchNorm output as the reference computes it.
                let slope = node.activation == .relu ? 0 : Float(node.float("slope")), p = plane(xs)
                for i in dy.indices {
                    let ch = (i / p) % xs[1]
                    if (a[1][i] - a[3][ch]) * a[4][ch] * a[2][ch] + bias[ch] <= 0 { dy[i] *= slope }
                }
            }
            var r = ReferenceKernels.batchNormTrainGrad(
                dy, a[1], channels: xs[1], plane: plane(xs), scale: a[2], mean: a[3], invstd: a[4])
            if let residual = node.argument("residual", in: a) { r.dx = zip(residual, r.dx).map(+) }
            return [r.dx, r.dscale, r.dbias]
        case .batchNormEvalGrad:
            let eps = Float(node.float("epsilon")), p = plane(xs)
            return [
                a[0].indices.map { i in
                    let c = (i / p) % xs[1]; return a[0][i] * a[1][c] / (a[2][c] + eps).squareRoot()
                }
            ]
        case .instanceNormGrad:
            let r = ReferenceKernels.instanceNormGrad(
                a[0], a[1], channels: xs[1], plane: plane(xs), scale: node.argument("scale", in: a),
                epsilon: Float(node.float("epsilon")))
            return [r.dx, r.dscale, r.dbias]
        default:
            return nil
        }
    }

    /// Activation, pooling and softmax gradients, slices.
    static func evaluateElementwiseGradients(
        _ node: OpView, _ a: [[Float]], _ t: [TensorType], _ outs: [TensorType], batch: Int, seed: UInt64
    ) throws -> [[Float]]? {
        let xs = t[0].resolvedShape(batch: batch)
        let plane = { (s: [Int]) in s.dropFirst(2).reduce(1, *) }
        switch node.op {
        case .reluGrad: return [zip(a[0], a[1]).map { $1 > 0 ? $0 : 0 }]
        case .leakyReluGrad:
            let slope = Float(node.float("slope"))
            return [zip(a[0], a[1]).map { $1 > 0 ? $0 : $0 * slope }]
        case .sigmoidGrad: return [zip(a[0], a[1]).map { $0 * $1 * (1 - $1) }]
        case .tanhGrad: return [zip(a[0], a[1]).map { $0 * (1 - $1 * $1) }]
        case .maxPool2dGrad:
            let x = t[1].resolvedShape(batch: batch)
            return [ReferenceKernels.maxPool2dGrad(a[0], a[1], Geometry.pool(node, x, xs))]
        case .avgPool2dGrad:
            let x = outs[0].resolvedShape(batch: batch)
            return [
                ReferenceKernels.avgPool2dGrad(
                    a[0], Geometry.pool(node, x, xs), countIncludePad: node.bool("count_include_pad"))
            ]
        case .globalAvgPoolGrad:
            let x = outs[0].resolvedShape(batch: batch), p = plane(x)
            return [(0..<(x[0] * x[1] * p)).map { a[0][$0 / p] / Float(p) }]
        case .softmaxGrad:
            let axis = node.int("axis"), extent = xs[axis], inner = xs[(axis + 1)...].reduce(1, *)
            var dx = a[0]
            for outer in 0..<(a[0].count / (extent * inner)) {
                for i in 0..<inner {
                    let idx = (0..<extent).map { outer * extent * inner + $0 * inner + i }
                    let dot = idx.reduce(Float(0)) { $0 + a[0][$1] * a[1][$1] }
                    for j in idx { dx[j] = a[1][j] * (a[0][j] - dot) }
                }
            }
            return [dx]
        case .slice:
            let axis = node.int("axis"), start = node.int("start"), length = node.int("length")
            let inner = xs[(axis + 1)...].reduce(1, *), extent = xs[axis]
            var out: [Float] = []
            for o in 0..<(a[0].count / (extent * inner)) {
                out += a[0][(o * extent + start) * inner..<(o * extent + start + length) * inner]
            }
            return [out]
        default:
            return nil
        }
    }

    /// Losses and their gradients, the weighted sum of the loss terms.
    static func evaluateLosses(
        _ node: OpView, _ a: [[Float]], _ t: [TensorType], _ outs: [TensorType], batch: Int, seed: UInt64
    ) throws -> [[Float]]? {
        let xs = t[0].resolvedShape(batch: batch)
        // The loss gradients' `scale` (read only by the ops that declare it).
        var scale: Float { Float(node.float("scale")) }
        switch node.op {
        case .crossEntropy: return [[ReferenceKernels.crossEntropy(a[0], a[1], classes: xs[1])]]
        case .crossEntropyGrad: return [ReferenceKernels.crossEntropyGrad(a[0], a[1], classes: xs[1], scale: scale)]
        case .mseLoss:
            return [[zip(a[0], a[1]).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Float(a[0].count)]]
        case .mseLossGrad: return [zip(a[0], a[1]).map { scale * 2 * ($0 - $1) / Float(a[0].count) }]
        case .l1Loss: return [[zip(a[0], a[1]).reduce(Float(0)) { $0 + abs($1.0 - $1.1) } / Float(a[0].count)]]
        case .l1LossGrad:
            return [zip(a[0], a[1]).map { d in scale * (d.0 > d.1 ? 1 : d.0 < d.1 ? -1 : 0) / Float(a[0].count) }]
        case .tvLoss: return [[ReferenceKernels.totalVariation(a[0], n: xs[0], c: xs[1], h: xs[2], w: xs[3])]]
        case .tvLossGrad:
            return [ReferenceKernels.totalVariationGrad(a[0], n: xs[0], c: xs[1], h: xs[2], w: xs[3], scale: scale)]
        case .weightedSum:
            let w = node.floats("weights")
            return [[zip(a, w).reduce(Float(0)) { $0 + $1.0[0] * Float($1.1) }]]
        default:
            return nil
        }
    }

    /// The dropout key of `node` in a run seeded with `seed`.
    public static func dropoutKey(seed: UInt64, node: String) -> UInt64 {
        var g = SeededGenerator.derive(seed: seed, stream: "dropout:" + node)
        return g.next()
    }
}
