import ScionGraph

/// A small CNN for 28x28 grayscale images (MNIST, Fashion-MNIST), shaped like the reference
/// networks so Trap-and-Replace applies: a stem of three conv blocks and a head of one conv
/// block, global average pool and a linear layer.
///
/// Cut points: `stem1` (32x14x14), `stem2` (64x7x7), `stem3` (64x7x7, the default).
enum SmallCNN {
    static func build(_ b: inout GraphBuilder, _ x: GraphBuilder.Value, classes: Int) -> GraphBuilder.Value {
        b.defaults = LayerDefaults(
            convWeight: .kaimingNormal(fanOut: true), convBias: .pytorch,
            linearWeight: .xavierNormal, linearBias: .zeros)
        var h = x
        let plan: [(channels: Int, pool: Bool)] = [(32, true), (64, true), (64, false)]
        for (i, step) in plan.enumerated() {
            h = b.scope("block\(i + 1)") { b in
                var h = convBlock(&b, h, out: step.channels)
                if step.pool { h = b.maxPool2d(h, kernel: 2, name: "pool") }
                return h
            }
            b.cutPoint("stem\(i + 1)", at: h, summary: "output of block\(i + 1)")
        }
        h = b.scope("block4") { b in convBlock(&b, h, out: 128) }
        h = b.flatten(b.globalAvgPool(h, name: "pool"), name: "flatten")
        return b.linear(h, out: classes, name: "fc")
    }

    static func convBlock(_ b: inout GraphBuilder, _ x: GraphBuilder.Value, out: Int) -> GraphBuilder.Value {
        let h = b.conv2d(x, out: out, kernel: 3, padding: 1, name: "conv")
        return b.relu(b.batchNorm(h, name: "bn"), name: "relu")
    }
}
