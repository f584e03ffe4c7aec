import ScionGraph
import ScionZoo
import Testing

@Suite struct ZooTests {
    /// Parameter counts equal PyTorch's `sum(p.numel() for p in model.parameters())`.
    @Test(arguments: [
        ("wrn16-1", 10, [3, 32, 32], 175_626),
        ("wrn16-1", 43, [3, 32, 32], 177_771),
        ("wrn28-2", 10, [3, 32, 32], 1_469_642),
        ("resnet18", 10, [3, 32, 32], 11_173_962),
        ("resnet34", 12, [3, 224, 224], 21_290_828)
    ])
    func parameterCounts(arch: String, classes: Int, input: [Int], expected: Int) throws {
        let net = try Zoo.classifier(try Architecture(parsing: arch), classes: classes, input: input)
        #expect(net.graph.parameterCount == expected)
    }

    @Test func wrnParameterNamesMatchPyTorchStateDict() throws {
        let net = try Zoo.classifier(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32])
        let names = Set(net.graph.parameters.map(\.name))
        for expected in [
            "conv1.weight", "conv1.bias", "block1.0.bn1.weight", "block1.0.bn1.running_var",
            "block2.0.convShortcut.weight", "block3.1.conv2.bias", "bn1.bias", "fc.weight", "fc.bias"
        ] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(!names.contains("block1.0.convShortcut.weight"))
    }

    @Test func wrnCutPointsHaveTheReferenceShapes() throws {
        let net = try Zoo.classifier(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32])
        let shape = { (stem: String) -> [Dim]? in
            net.graph.cutPoint(named: stem).flatMap { net.graph.values[$0.value]?.shape }
        }
        #expect(shape("stem4") == [.batch, 32, 16, 16])
        #expect(shape("stem5") == [.batch, 64, 8, 8])
        #expect(shape("stem6") == [.batch, 64, 8, 8])
        #expect(net.graph.cutPoint(named: "stem5")?.value == "block3.0.out")
    }

    @Test func resnet34DeclaresTheReferenceStems() throws {
        let net = try Zoo.classifier(.resNet34, classes: 12, input: [3, 224, 224])
        for stem in [27, 29, 31, 33] {
            #expect(net.graph.cutPoint(named: "stem\(stem)") != nil)
        }
        let stem31 = try #require(net.graph.cutPoint(named: "stem31"))
        #expect(net.graph.values[stem31.value]?.shape == [.batch, 512, 7, 7])
    }

    @Test func cnnSmallTakesGrayscale28() throws {
        let net = try Zoo.classifier(.cnnSmall, classes: 10, input: [1, 28, 28])
        #expect(net.graph.values["logits"]?.shape == [.batch, 10])
    }

    @Test func unknownArchitectureAndTooSmallInputAreErrors() throws {
        #expect(throws: ZooError.self) { try Architecture(parsing: "vgg16") }
        #expect(throws: ZooError.self) { try Architecture(parsing: "wrn15-1") }
        // Two 2x2 max-pools cannot fit a 2x2 image.
        #expect(throws: GraphError.self) {
            _ = try Zoo.classifier(.cnnSmall, classes: 10, input: [1, 2, 2])
        }
    }

    @Test func initialisationFollowsTheReference() throws {
        let net = try Zoo.classifier(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32])
        let params = net.initialParameters(seed: 7)
        let w = try #require(params["block3.1.conv1.weight"]).floats
        let std = (w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot()
        // Kaiming normal, fan_out = 64·3·3, gain √2: std ≈ 0.0589.
        #expect(abs(std - (2.0 / 576.0).squareRoot()) < 0.003)
        #expect(params["bn1.weight"]?.floats.allSatisfy { $0 == 1 } == true)
        #expect(params["fc.bias"]?.floats.allSatisfy { $0 == 0 } == true)
        #expect(net.initialParameters(seed: 7) == params)
        #expect(net.initialParameters(seed: 8)["fc.weight"] != params["fc.weight"])
    }
}

@Suite struct TrapModelTests {
    @Test func wrnDecoderFollowsTheReference() throws {
        let net = try Zoo.trapModel(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32], stem: 5)
        let g = net.graph
        #expect(g.outputs == ["logits", "reconstruction"])
        #expect(g.values["reconstruction"]?.shape == [.batch, 3, 32, 32])
        let decoderParameters = g.parameters.filter { $0.name.hasPrefix("decoder") }.reduce(0) { $0 + $1.elementCount }
        #expect(decoderParameters == 34_339)
        #expect(g.parameter(named: "decoder.2.weight")?.shape == [32, 3, 4, 4])
        let stem4 = try Zoo.trapModel(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32], stem: 4).graph
        #expect(stem4.parameter(named: "decoder.2.weight")?.shape == [32, 3, 3, 3])
    }

    @Test func resnet34DecoderHasTheReferenceSize() throws {
        let net = try Zoo.trapModel(.resNet34, classes: 12, input: [3, 224, 224], stem: 31)
        let decoderParameters = net.graph.parameters.filter { $0.name.hasPrefix("decoder") }.reduce(0) {
            $0 + $1.elementCount
        }
        #expect(decoderParameters == 2_787_299)  // "2.79M" in the reference
        #expect(net.graph.values["reconstruction"]?.shape == [.batch, 3, 224, 224])
    }

    @Test func unknownStemIsNamed() {
        #expect(throws: ZooError.unknownStem(arch: "wrn16-1", stem: 9, available: [1, 2, 3, 4, 5, 6])) {
            try Zoo.trapModel(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32], stem: 9)
        }
    }
}
