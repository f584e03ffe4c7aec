import ScionGraph

/// torchvision-style ResNet with BasicBlocks. `imageNetStem` selects the 7x7/2 conv and max-pool
/// (ResNet-34 for ImageNet); without it the stem is a 3x3/1 conv and no pool (CIFAR ResNet-18).
///
/// Cut point `stem{k}` follows the reference's count of stem convolutions without the 1x1
/// downsample convs: conv1 = 1, each block adds 2, so ResNet-34 declares 27, 29, 31, 33 among others.
enum ResNet {
    static func build(
        _ b: inout GraphBuilder, _ x: GraphBuilder.Value, layers: [Int], imageNetStem: Bool, classes: Int
    ) -> GraphBuilder.Value {
        b.defaults = LayerDefaults(
            convWeight: .kaimingNormal(fanOut: true), convBias: .zeros, linearWeight: .pytorch, linearBias: .pytorch)
        var h: GraphBuilder.Value
        if imageNetStem {
            h = b.conv2d(x, out: 64, kernel: 7, stride: 2, padding: 3, bias: false, name: "conv1")
        } else {
            h = b.conv2d(x, out: 64, kernel: 3, stride: 1, padding: 1, bias: false, name: "conv1")
        }
        h = b.relu(b.batchNorm(h, name: "bn1"), name: "relu")
        if imageNetStem { h = b.maxPool2d(h, kernel: 3, stride: 2, padding: 1, name: "maxpool") }
        var convCount = 1
        for (layer, blocks) in layers.enumerated() {
            let planes = 64 << layer
            h = b.scope("layer\(layer + 1)") { b in
                var h = h
                for i in 0..<blocks {
                    h = b.scope(String(i)) { b in
                        basicBlock(&b, h, planes: planes, stride: i == 0 && layer > 0 ? 2 : 1)
                    }
                    convCount += 2
                    b.cutPoint("stem\(convCount)", at: h, summary: "output of layer\(layer + 1)[\(i)]")
                }
                return h
            }
        }
        h = b.flatten(b.globalAvgPool(h, name: "avgpool"), name: "flatten")
        return b.linear(h, out: classes, name: "fc")
    }

    /// `conv3x3 → bn → relu → [dropout] → conv3x3 → bn`, plus the (downsampled) input, then relu.
    static func basicBlock(
        _ b: inout GraphBuilder, _ x: GraphBuilder.Value, planes: Int, stride: Int, dropRate: Double = 0
    )
        -> GraphBuilder.Value
    {
        var h = b.conv2d(x, out: planes, kernel: 3, stride: stride, padding: 1, bias: false, name: "conv1")
        h = b.relu(b.batchNorm(h, name: "bn1"), name: "relu1")
        if dropRate > 0 { h = b.dropout(h, p: dropRate, name: "dropout") }
        h = b.conv2d(h, out: planes, kernel: 3, padding: 1, bias: false, name: "conv2")
        h = b.batchNorm(h, name: "bn2")
        var shortcut = x
        if stride != 1 || x.channels != planes {
            shortcut = b.scope("downsample") { b in
                let s = b.conv2d(x, out: planes, kernel: 1, stride: stride, bias: false, name: "0")
                return b.batchNorm(s, name: "1")
            }
        }
        return b.relu(b.add(h, shortcut, name: "add"), name: "out")
    }
}
