import ScionGraph

/// The replacement heads of Trap-and-Replace's stage 2: the same structure as the network's
/// head after stem `stem`, freshly initialised, with dropout inside its blocks and on their
/// output (the reference's `*_aux` heads). Their layers keep the classifier's names, so the
/// sanitized model reads like an ordinary network.
extension Zoo {
    /// A head taking the stem's output (input named `inputName`, of `inputType`) to `logits`.
    public static func replacementHead(
        _ arch: Architecture, classes: Int, input: [Int], stem: Int, dropout: Double,
        inputName: String, inputType: TensorType
    ) throws -> NetworkDefinition {
        guard (0..<1).contains(dropout) else { throw ZooError.invalidSize("dropout must be in [0, 1)") }
        var b = GraphBuilder(name: "\(arch)-head")
        let x = b.input(inputName, inputType)
        let logits: GraphBuilder.Value
        switch arch {
        case .wideResNet(let depth, let widen):
            logits = WideResNet.head(
                &b, x, depth: depth, widen: widen, classes: classes, afterBlock: stem, dropout: dropout)
        case .resNet18, .resNet34:
            logits = ResNet.head(
                &b, x, layers: arch == .resNet18 ? [2, 2, 2, 2] : [3, 4, 6, 3], classes: classes, afterConvs: stem,
                dropout: dropout)
        case .cnnSmall:
            logits = SmallCNN.head(&b, x, classes: classes, afterBlock: stem, dropout: dropout)
        }
        b.output(logits, as: "logits")
        return try b.finish()
    }
}

extension WideResNet {
    /// Blocks `afterBlock + 1 ... 3n` (each with internal dropout), dropout, then `bn1 → relu →
    /// pool → fc`.
    static func head(
        _ b: inout GraphBuilder, _ x: GraphBuilder.Value, depth: Int, widen: Int, classes: Int, afterBlock k: Int,
        dropout: Double
    )
        -> GraphBuilder.Value
    {
        b.defaults = LayerDefaults(
            convWeight: .kaimingNormal(fanOut: true), convBias: .pytorch, linearWeight: .xavierNormal,
            linearBias: .zeros)
        let n = (depth - 4) / 6
        let channels = [16, 16 * widen, 32 * widen, 64 * widen]
        var h = x
        for index in (k + 1)..<(3 * n + 1) {
            let group = (index - 1) / n + 1, i = (index - 1) % n
            h = b.scope("block\(group)") { b in
                b.scope(String(i)) { b in
                    basicBlock(
                        &b, h, out: channels[group], stride: i == 0 && group > 1 ? 2 : 1,
                        activateBeforeResidual: group == 1, dropRate: dropout)
                }
            }
        }
        return classifierHead(&b, h, classes: classes, bnName: "bn1", fcName: "fc", dropout: dropout)
    }
}

extension ResNet {
    /// The blocks after the first `afterConvs` stem convolutions (internal dropout in blocks with
    /// index ≥ 1 of their layer, as the reference's `_make_layer`), dropout, pool and fc.
    static func head(
        _ b: inout GraphBuilder, _ x: GraphBuilder.Value, layers: [Int], classes: Int, afterConvs k: Int,
        dropout: Double
    )
        -> GraphBuilder.Value
    {
        b.defaults = LayerDefaults(
            convWeight: .kaimingNormal(fanOut: true), convBias: .zeros, linearWeight: .pytorch, linearBias: .pytorch)
        var h = x
        var convs = 1
        for (layer, blocks) in layers.enumerated() {
            for i in 0..<blocks {
                convs += 2
                guard convs > k else { continue }
                let planes = 64 << layer
                h = b.scope("layer\(layer + 1)") { b in
                    b.scope(String(i)) { b in
                        basicBlock(
                            &b, h, planes: planes, stride: i == 0 && layer > 0 ? 2 : 1, dropRate: i >= 1 ? dropout : 0)
                    }
                }
            }
        }
        if dropout > 0 { h = b.dropout(h, p: dropout, name: "head_dropout") }
        h = b.flatten(b.globalAvgPool(h, name: "avgpool"), name: "flatten")
        return b.linear(h, out: classes, name: "fc")
    }
}

extension SmallCNN {
    static func head(_ b: inout GraphBuilder, _ x: GraphBuilder.Value, classes: Int, afterBlock k: Int, dropout: Double)
        -> GraphBuilder.Value
    {
        b.defaults = LayerDefaults(
            convWeight: .kaimingNormal(fanOut: true), convBias: .pytorch, linearWeight: .xavierNormal,
            linearBias: .zeros)
        let plan: [(channels: Int, pool: Bool)] = [(32, true), (64, true), (64, false), (128, false)]
        var h = x
        for index in (k + 1)...plan.count {
            let step = plan[index - 1]
            h = b.scope("block\(index)") { b in
                var h = convBlock(&b, h, out: step.channels)
                if dropout > 0 { h = b.dropout(h, p: dropout, name: "dropout") }
                if step.pool { h = b.maxPool2d(h, kernel: 2, name: "pool") }
                return h
            }
        }
        if dropout > 0 { h = b.dropout(h, p: dropout, name: "head_dropout") }
        h = b.flatten(b.globalAvgPool(h, name: "pool"), name: "flatten")
        return b.linear(h, out: classes, name: "fc")
    }
}
