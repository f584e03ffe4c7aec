import ScionGraph

/// WideResNet exactly as the Trap-and-Replace code defines it (FixMatch style): pre-activation
/// BasicBlocks, LeakyReLU(0.1), conv bias, a 1x1 conv shortcut when channels change.
///
/// Cut point `stem{k}` is the output of the k-th residual block (k = 1...3n), so WRN-16's
/// `--stem 4/5/6` are the outputs of block2, block3[0] and block3.
enum WideResNet {
    static let slope = 0.1

    static func build(
        _ b: inout GraphBuilder, _ x: GraphBuilder.Value, depth: Int, widen: Int, classes: Int
    ) -> GraphBuilder.Value {
        b.defaults = LayerDefaults(
            convWeight: .kaimingNormal(fanOut: true), convBias: .pytorch,
            linearWeight: .xavierNormal, linearBias: .zeros)
        let n = (depth - 4) / 6
        let channels = [16, 16 * widen, 32 * widen, 64 * widen]
        var h = b.conv2d(x, out: channels[0], kernel: 3, padding: 1, name: "conv1")
        var blockIndex = 0
        for group in 1...3 {
            h = b.scope("block\(group)") { b in
                var h = h
                for i in 0..<n {
                    h = b.scope(String(i)) { b in
                        basicBlock(
                            &b, h, out: channels[group], stride: i == 0 && group > 1 ? 2 : 1,
                            activateBeforeResidual: group == 1, dropRate: 0)
                    }
                    blockIndex += 1
                    b.cutPoint("stem\(blockIndex)", at: h, summary: "output of block\(group)[\(i)]")
                }
                return h
            }
        }
        return classifierHead(&b, h, classes: classes, bnName: "bn1", fcName: "fc")
    }

    /// `bn → LeakyReLU(0.1) → global average pool → flatten → fc`.
    static func classifierHead(
        _ b: inout GraphBuilder, _ h: GraphBuilder.Value, classes: Int, bnName: String, fcName: String,
        dropout: Double = 0
    ) -> GraphBuilder.Value {
        var h = h
        if dropout > 0 { h = b.dropout(h, p: dropout, name: "\(bnName)_dropout") }
        h = b.leakyRelu(b.batchNorm(h, name: bnName), slope: slope, name: "\(bnName)_relu")
        h = b.flatten(b.globalAvgPool(h, name: "pool"), name: "flatten")
        return b.linear(h, out: classes, name: fcName)
    }

    /// One BasicBlock. When channels change and `activateBeforeResidual` is false (block2[0],
    /// block3[0]), `bn1 → relu1` is computed and not used: conv1 and the shortcut both read the
    /// raw input. The dead nodes are kept so the parameters match the reference; the compiler
    /// removes them.
    static func basicBlock(
        _ b: inout GraphBuilder, _ x: GraphBuilder.Value, out: Int, stride: Int,
        activateBeforeResidual: Bool, dropRate: Double
    ) -> GraphBuilder.Value {
        let equal = x.channels == out
        var x = x
        var activated: GraphBuilder.Value
        if !equal && activateBeforeResidual {
            x = b.leakyRelu(b.batchNorm(x, name: "bn1"), slope: slope, name: "relu1")
            activated = x
        } else {
            activated = b.leakyRelu(b.batchNorm(x, name: "bn1"), slope: slope, name: "relu1")
        }
        var h = b.conv2d(equal ? activated : x, out: out, kernel: 3, stride: stride, padding: 1, name: "conv1")
        h = b.leakyRelu(b.batchNorm(h, name: "bn2"), slope: slope, name: "relu2")
        if dropRate > 0 { h = b.dropout(h, p: dropRate, name: "dropout") }
        h = b.conv2d(h, out: out, kernel: 3, padding: 1, name: "conv2")
        let shortcut = equal ? x : b.conv2d(x, out: out, kernel: 1, stride: stride, name: "convShortcut")
        return b.add(shortcut, h, name: "out")
    }
}
