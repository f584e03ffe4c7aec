import ScionGraph
import Testing

@Suite struct VerifierTests {
    func tinyGraph() throws -> Graph {
        var b = GraphBuilder(name: "tiny")
        let x = b.input("image", .batched([3, 8, 8]))
        let h = b.relu(b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv"), name: "act")
        b.output(b.linear(b.flatten(h, name: "flat"), out: 2, name: "fc"), as: "logits")
        return try b.finish().graph
    }

    @Test func aValidGraphVerifiesAndRoundTripsThroughJSON() throws {
        let g = try tinyGraph()
        let types = try g.verify()
        #expect(types["logits"] == .batched([2]))
        let decoded = try Graph(json: g.canonicalJSON())
        #expect(decoded == g)
        #expect(try decoded.canonicalJSON() == g.canonicalJSON())
    }

    @Test func unknownOpIsNamed() throws {
        var g = try tinyGraph()
        g.nodes[1].op = "gelu"
        #expect(throws: GraphError.unknownOp(node: "act", op: "gelu")) { try g.verify() }
    }

    @Test func danglingReferenceIsNamed() throws {
        var g = try tinyGraph()
        g.nodes[1].inputs = ["nowhere"]
        #expect(throws: GraphError.undefinedValue(node: "act", value: "nowhere")) { try g.verify() }
    }

    @Test func outOfOrderNodesAreRejected() throws {
        var g = try tinyGraph()
        g.nodes.swapAt(0, 1)
        #expect(throws: GraphError.notTopological(node: "act", value: "conv")) { try g.verify() }
    }

    @Test func duplicateValueIsRejected() throws {
        var g = try tinyGraph()
        g.nodes[1].outputs = ["conv"]
        #expect(throws: GraphError.duplicateName("conv", kind: "value")) { try g.verify() }
    }

    @Test func badAttributeIsNamed() throws {
        var g = try tinyGraph()
        g.nodes[0].attributes["stride"] = .ints([0, 1])
        #expect(throws: GraphError.self) { try g.verify() }
        g.nodes[0].attributes["stride"] = .float(1)
        #expect(throws: GraphError.attribute(node: "conv", attribute: "stride", problem: "expected type is, got f")) {
            try g.verify()
        }
        g.nodes[0].attributes["stride"] = nil
        g.nodes[0].attributes["strides"] = .ints([1, 1])
        #expect(throws: GraphError.attribute(node: "conv", attribute: "strides", problem: "not an attribute of conv2d"))
        {
            try g.verify()
        }
    }

    @Test func parameterShapeMustFitItsNode() throws {
        var g = try tinyGraph()
        let i = try #require(g.parameters.firstIndex { $0.name == "conv.weight" })
        g.parameters[i].shape = [4, 2, 3, 3]
        g.values["conv.weight"] = g.parameters[i].type
        #expect(throws: GraphError.self) { try g.verify() }
    }

    @Test func declaredTypeMustMatchInference() throws {
        var g = try tinyGraph()
        g.values["act"] = .batched([4, 7, 7])
        #expect(
            throws: GraphError.typeMismatch(
                value: "act", declared: "float32[N, 4, 7, 7]", inferred: "float32[N, 4, 8, 8]")
        ) {
            try g.verify()
        }
    }

    @Test func windowThatDoesNotFitIsAShapeError() throws {
        var b = GraphBuilder(name: "bad")
        let x = b.input("image", .batched([1, 2, 2]))
        b.output(b.conv2d(x, out: 1, kernel: 5, name: "conv"))
        #expect(throws: GraphError.self) { try b.finish() }
    }

    @Test func cutPointMustNameAValue() throws {
        var g = try tinyGraph()
        g.cutPoints = [CutPoint(name: "stem", value: "missing")]
        #expect(throws: GraphError.cutPoint(name: "stem", problem: "value 'missing' is not defined")) {
            try g.verify()
        }
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = SeededGenerator(seed: 1)
        let perm = c.permutation(100)
        #expect(perm.sorted() == Array(0..<100))
        #expect(perm != Array(0..<100))
        let restored = SeededGenerator(state: c.state)
        #expect(restored == c)
    }
}
