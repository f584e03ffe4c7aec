import ScionGraph

/// The image-reconstruction decoder of Trap-and-Replace's stage 1, attached at a cut point.
///
/// For WRN (and any network whose stem output is at most 4x smaller than the image) the decoder
/// is the reference's: two transposed convolutions through 32 channels, each doubling the size
/// (kernel 4, stride 2, padding 1) while a doubling is needed and keeping it (kernel 3, stride 1,
/// padding 1) otherwise, ReLU between, Sigmoid at the end. ResNet-34 gets the reference's
/// five-layer decoder with affine-free InstanceNorm. Other shapes get one doubling layer per
/// factor of two, halving channels.
enum Decoder {
    static func build(
        _ b: inout GraphBuilder, from stem: GraphBuilder.Value, image: [Int], arch: Architecture, stemIndex: Int
    ) throws -> GraphBuilder.Value {
        guard stem.height > 0, image[1] % stem.height == 0, image[2] % stem.width == 0,
            image[1] / stem.height == image[2] / stem.width, (image[1] / stem.height).nonzeroBitCount == 1
        else {
            throw ZooError.invalidSize(
                "the decoder needs the image size to be the stem output size times a power of two; stem output is \(stem.height)x\(stem.width), image \(image[1])x\(image[2])"
            )
        }
        let doublings = (image[1] / stem.height).trailingZeroBitCount
        if arch == .resNet34 && stem.channels >= 256 && doublings >= 4 {
            return resNet34(&b, stem, outChannels: image[0], fromLayer3: stemIndex == 27)
        }
        if doublings <= 2 {
            return twoLayer(&b, stem, outChannels: image[0], doublings: doublings)
        }
        return halving(&b, stem, outChannels: image[0], doublings: doublings)
    }

    /// `decoder.0` ConvT → ReLU → `decoder.2` ConvT → Sigmoid (the names of the reference's
    /// `nn.Sequential`).
    static func twoLayer(_ b: inout GraphBuilder, _ x: GraphBuilder.Value, outChannels: Int, doublings: Int)
        -> GraphBuilder.Value
    {
        b.scope("decoder") { b in
            let first = doublings >= 1 ? (4, 2) : (3, 1), second = doublings >= 2 ? (4, 2) : (3, 1)
            var h = b.convTranspose2d(x, out: 32, kernel: first.0, stride: first.1, padding: 1, name: "0")
            h = b.relu(h, name: "1")
            h = b.convTranspose2d(h, out: outChannels, kernel: second.0, stride: second.1, padding: 1, name: "2")
            return b.sigmoid(h, name: "3")
        }
    }

    static func halving(_ b: inout GraphBuilder, _ x: GraphBuilder.Value, outChannels: Int, doublings: Int)
        -> GraphBuilder.Value
    {
        b.scope("decoder") { b in
            var h = x
            for i in 0..<doublings {
                let last = i == doublings - 1
                h = b.convTranspose2d(
                    h, out: last ? outChannels : max(16, h.channels / 2), kernel: 4, stride: 2, padding: 1,
                    name: String(2 * i))
                h = last ? b.sigmoid(h, name: String(2 * i + 1)) : b.relu(h, name: String(2 * i + 1))
            }
            return h
        }
    }

    /// ResNet34AE's decoder: `decoder1`, `decoder2`, `decoder3` (see the reference §1.4).
    static func resNet34(_ b: inout GraphBuilder, _ x: GraphBuilder.Value, outChannels: Int, fromLayer3: Bool)
        -> GraphBuilder.Value
    {
        var h = x
        h = b.scope("decoder1") { b in
            var h = b.convTranspose2d(h, out: fromLayer3 ? 128 : 256, kernel: 4, stride: 2, padding: 1, name: "0")
            h = b.convTranspose2d(h, out: 128, kernel: 4, stride: 2, padding: 1, name: "1")
            return b.relu(b.instanceNorm(h, name: "2"), name: "3")
        }
        h = b.scope("decoder2") { b in
            var h = b.convTranspose2d(h, out: 64, kernel: 4, stride: 2, padding: 1, name: "0")
            if fromLayer3 { return b.relu(b.instanceNorm(h, name: "1"), name: "2") }
            h = b.convTranspose2d(h, out: 32, kernel: 4, stride: 2, padding: 1, name: "1")
            return b.relu(b.instanceNorm(h, name: "2"), name: "3")
        }
        return b.scope("decoder3") { b in
            b.sigmoid(b.convTranspose2d(h, out: outChannels, kernel: 4, stride: 2, padding: 1, name: "0"), name: "1")
        }
    }
}

extension Zoo {
    /// Trap-and-Replace's stage-1 network: the classifier (output `logits`) plus the
    /// reconstruction decoder on the output of stem `stem` (output `reconstruction`, in [0, 1]).
    public static func trapModel(_ arch: Architecture, classes: Int, input: [Int], stem: Int) throws
        -> NetworkDefinition
    {
        let classifier = try Zoo.classifier(arch, classes: classes, input: input)
        guard let cut = classifier.graph.cutPoint(named: "stem\(stem)") else {
            throw ZooError.unknownStem(arch: arch.description, stem: stem, available: stems(of: classifier.graph))
        }
        var b = GraphBuilder(name: "\(arch)-trap")
        let x = b.input("image", .batched(input))
        b.output(body(arch, &b, x, classes: classes), as: "logits")
        guard let stemValue = b.value(cut.value) else { throw ZooError.invalidSize("cut point \(cut.name) vanished") }
        let reconstruction = try Decoder.build(&b, from: stemValue, image: input, arch: arch, stemIndex: stem)
        b.output(reconstruction, as: "reconstruction")
        return try b.finish()
    }

    /// The stem numbers a graph declares (`stem{k}` cut points).
    public static func stems(of graph: Graph) -> [Int] {
        graph.cutPoints.compactMap { $0.name.hasPrefix("stem") ? Int($0.name.dropFirst(4)) : nil }.sorted()
    }
}
