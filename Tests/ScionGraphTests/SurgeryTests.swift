import ScionGraph
import ScionZoo
import Testing

@Suite struct SurgeryTests {
    let classifier = try! Zoo.classifier(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32]).graph

    @Test func cuttingWRNAtStem5GivesTheReferenceHead() throws {
        let cut = try #require(classifier.cutPoint(named: "stem5"))
        let head = try classifier.head(after: cut.value)
        let stem = try classifier.stem(upTo: cut.value)
        #expect(head.parameterCount == 74_890)
        // The reference's stem (100,736) also counts block2.0.bn1 and block3.0.bn1, whose output
        // is never used (96 parameters); the stem as computed keeps only what reaches the cut.
        #expect(stem.parameterCount == 100_736 - 96)
        #expect(head.inputs == ["block3.0.out"] && head.outputs == ["logits"])
        #expect(stem.outputs == ["block3.0.out"])
        try stem.verify()
        try head.verify()
    }

    @Test func graftingAFreshHeadGivesAStandaloneClassifier() throws {
        let cut = try #require(classifier.cutPoint(named: "stem5"))
        let stem = try classifier.stem(upTo: cut.value)
        let fresh = try Zoo.replacementHead(
            .wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32], stem: 5, dropout: 0.5,
            inputName: cut.value, inputType: classifier.values[cut.value]!)
        #expect(fresh.graph.parameterCount == 74_890)
        #expect(fresh.graph.nodes.filter { $0.op == .dropout }.count == 2)
        let model = try Graph.graft(stem: stem, head: fresh.graph)
        #expect(model.inputs == ["image"] && model.outputs == ["logits"])
        #expect(model.parameterCount == 175_626 - 96)
        #expect(model.cutPoint(named: "graft")?.value == cut.value)
    }

    @Test func aMismatchedSeamIsRefused() throws {
        let stem = try classifier.stem(upTo: classifier.cutPoint(named: "stem5")!.value)
        let stem4 = classifier.cutPoint(named: "stem4")!.value
        let wrong = try Zoo.replacementHead(
            .wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32], stem: 4, dropout: 0.5,
            inputName: stem4, inputType: classifier.values[stem4]!)
        #expect {
            try Graph.graft(stem: stem, head: wrong.graph)
        } throws: { "\($0)".contains("the seam does not fit") }
    }

    @Test func aValueThatDoesNotSeparateTheGraphIsRefused() throws {
        // Inside block1.0 the residual still reads the block's input.
        #expect(throws: GraphError.self) { try classifier.head(after: "block1.0.conv1") }
    }

    @Test func headsExistForEveryFamily() throws {
        for (arch, input, stem) in [
            (Architecture.resNet34, [3, 64, 64], 31), (.resNet18, [3, 32, 32], 15), (.cnnSmall, [1, 28, 28], 3)
        ] {
            let g = try Zoo.classifier(arch, classes: 7, input: input).graph
            let cut = try #require(g.cutPoint(named: "stem\(stem)"))
            let old = try g.head(after: cut.value)
            let fresh = try Zoo.replacementHead(
                arch, classes: 7, input: input, stem: stem, dropout: 0.5, inputName: cut.value,
                inputType: g.values[cut.value]!)
            #expect(fresh.graph.parameterCount == old.parameterCount, "\(arch)")
            _ = try Graph.graft(stem: try g.stem(upTo: cut.value), head: fresh.graph)
        }
    }
}
