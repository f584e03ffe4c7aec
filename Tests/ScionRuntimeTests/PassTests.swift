import Foundation
import ScionCompiler
import ScionFormat
import ScionGraph
import ScionRuntime
import ScionTestSupport
import ScionZoo
import Testing

/// Each pass on its own: outputs before and after agree, the node count changes as expected,
/// and the pass does not fire where its conditions fail.
@Suite struct PassTests {
    /// Builds a model from `body`, with random parameters and non-trivial BatchNorm statistics.
    func model(_ body: (inout GraphBuilder, GraphBuilder.Value) -> Void) throws -> Model {
        var b = GraphBuilder(name: "t")
        let x = b.input("image", .batched([3, 6, 6]))
        body(&b, x)
        let net = try b.finish()
        var params = net.initialParameters(seed: 3)
        var rng = SeededGenerator(seed: 4)
        for p in net.graph.parameters where p.role == .runningVar || p.role == .runningMean || (p.role == .bias) {
            params[p.name] = Tensor(
                shape: p.shape, values: (0..<p.elementCount).map { _ in Float(0.3 + rng.nextDouble()) })
        }
        return Model(
            graph: net.graph, parameters: params,
            metadata: ModelMetadata(modelName: "t", labels: [], input: InputSpec(channels: 3, height: 6, width: 6)))
    }

    /// Runs `pass` alone and checks the outputs still match the reference; returns the result.
    @discardableResult
    func check(_ pass: any CompilerPass, on model: Model, rewrites expected: Int? = nil) throws -> CompilationUnit {
        var unit = CompilationUnit(model)
        let rewrites = try pass.run(&unit)
        try unit.graph.verify()
        if let expected { #expect(rewrites == expected, "\(pass.name)") }
        let x = Fixture.input([2] + model.graph.values["image"]!.sampleShape)
        let before = try ReferenceInterpreter(model: model).run(["image": x])
        var after = model
        after.graph = unit.graph
        after.parameters = unit.parameters
        let got = try ReferenceInterpreter(model: after).run(["image": x])
        for name in model.graph.outputs {
            #expect(maxDifference(got[name], before[name]) < 1e-4, "\(pass.name) changed output \(name)")
        }
        return unit
    }

    func convBN(_ b: inout GraphBuilder, _ x: GraphBuilder.Value) -> GraphBuilder.Value {
        b.batchNorm(b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv"), name: "bn")
    }

    @Test func dropoutAndBatchNormSimplify() throws {
        let m = try model { b, x in b.output(b.dropout(b.relu(convBN(&b, x)), p: 0.5), as: "y") }
        let unit = try check(InferenceSimplificationPass(), on: m, rewrites: 2)
        #expect(!unit.graph.nodes.contains { $0.op == .dropout || $0.op == .batchNorm })
        #expect(unit.graph.outputs == ["y"])
    }

    @Test func batchNormFoldsIntoConv() throws {
        let m = try model { b, x in b.output(b.relu(convBN(&b, x)), as: "y") }
        var unit = CompilationUnit(m)
        _ = try InferenceSimplificationPass().run(&unit)
        var simplified = m
        (simplified.graph, simplified.parameters) = (unit.graph, unit.parameters)
        let folded = try check(BatchNormFoldingPass(), on: simplified, rewrites: 1)
        #expect(folded.graph.nodes.map(\.op) == [.conv2d, .relu])
    }

    @Test func batchNormDoesNotFoldWhenTheConvOutputHasAnotherReader() throws {
        let m = try model { b, x in
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            b.output(b.add(b.batchNorm(c, name: "bn"), c), as: "y")
        }
        var unit = CompilationUnit(m)
        _ = try InferenceSimplificationPass().run(&unit)
        var simplified = m
        (simplified.graph, simplified.parameters) = (unit.graph, unit.parameters)
        try check(BatchNormFoldingPass(), on: simplified, rewrites: 0)
    }

    @Test func batchNormDoesNotFoldAcrossAGraphOutput() throws {
        let m = try model { b, x in
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            b.output(c)
            b.output(b.batchNorm(c, name: "bn"), as: "y")
        }
        var unit = CompilationUnit(m)
        _ = try InferenceSimplificationPass().run(&unit)
        var simplified = m
        (simplified.graph, simplified.parameters) = (unit.graph, unit.parameters)
        try check(BatchNormFoldingPass(), on: simplified, rewrites: 0)
    }

    @Test func epilogueFusionTakesResidualAndActivation() throws {
        let m = try model { b, x in
            let s = b.conv2d(x, out: 4, kernel: 1, name: "shortcut")
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            b.output(b.leakyRelu(b.add(s, c), slope: 0.1), as: "y")
        }
        let unit = try check(EpilogueFusionPass(), on: m, rewrites: 2)
        #expect(unit.graph.nodes.count == 2)
        let fused = try #require(unit.graph.nodes.last)
        #expect(fused.view.bool("has_residual") == true && fused.view.string("activation") == "leaky_relu")
    }

    @Test func epilogueFusionStopsAtGraphOutputsAndSharedValues() throws {
        let shared = try model { b, x in
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            b.output(b.add(b.relu(c), c), as: "y")
        }
        let u1 = try check(EpilogueFusionPass(), on: shared, rewrites: 0)
        #expect(u1.graph.nodes.contains { $0.op == .relu })
        let observed = try model { b, x in
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            b.output(c)
            b.output(b.relu(c), as: "y")
        }
        try check(EpilogueFusionPass(), on: observed, rewrites: 0)
    }

    @Test func residualIsNotFusedWhenItIsComputedAfterTheConv() throws {
        let m = try model { b, x in
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            let later = b.conv2d(x, out: 4, kernel: 1, name: "later")
            b.output(b.add(c, later), as: "y")
        }
        // `later` is fused with the add (its operand `conv` exists by then); `conv` is not.
        let unit = try check(EpilogueFusionPass(), on: m, rewrites: 1)
        #expect(unit.graph.nodes.first { $0.name == "conv" }?.view.bool("has_residual") != true)
    }

    @Test func constantFoldingEvaluatesParameterOnlyNodes() throws {
        var b = GraphBuilder(name: "c")
        let x = b.input("x", .batched([4]))
        let p = b.parameter("p", shape: [4], role: .constant, initializer: .uniform(bound: 1))
        let q = b.parameter("q", shape: [4], role: .constant, initializer: .uniform(bound: 1))
        let folded = b.relu(b.mul(p, q))
        b.output(b.linear(x, out: 4, name: "fc"), as: "y")
        b.output(folded, as: "constant")
        let net = try b.finish()
        var unit = CompilationUnit(graph: net.graph, parameters: net.initialParameters(seed: 1))
        // `mul` folds into a constant; `relu` defines the graph output `constant`, so it stays.
        #expect(try ConstantFoldingPass().run(&unit) == 1)
        #expect(unit.graph.nodes.map(\.op) == [.relu, .linear])
        let values = unit.parameters[unit.graph.nodes[0].inputs[0]]?.floats ?? []
        let expected = zip(net.initialParameters(seed: 1)["p"]!.floats, net.initialParameters(seed: 1)["q"]!.floats)
            .map(*)
        #expect(values == expected)
    }

    @Test func constantFoldingLeavesInputDependentNodes() throws {
        let m = try model { b, x in b.output(b.relu(x), as: "y") }
        try check(ConstantFoldingPass(), on: m, rewrites: 0)
    }

    @Test func deadNodesOfTheWRNQuirkAreRemoved() throws {
        let m = try Fixture.model(.wideResNet(depth: 16, widen: 1))
        let unit = try check(DeadNodeEliminationPass(), on: m, rewrites: 4)
        #expect(unit.graph.parameter(named: "block2.0.bn1.weight") == nil)
        #expect(unit.graph.parameter(named: "block3.0.bn1.running_var") == nil)
        let live = try model { b, x in b.output(b.relu(x), as: "y") }
        try check(DeadNodeEliminationPass(), on: live, rewrites: 0)
    }

    @Test func inPlaceOnlyOverDyingValues() throws {
        let m = try model { b, x in
            let c = b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv")
            let r = b.relu(c, name: "r")
            b.output(b.add(b.sigmoid(r, name: "s"), c, name: "sum"), as: "y")
        }
        let unit = try check(InPlacePass(), on: m)
        // `c` is read again by the add, so the relu cannot overwrite it; the sigmoid can
        // overwrite `r`, which dies there.
        #expect(unit.aliases["r"] == nil)
        #expect(unit.aliases["s"] == "r")
        // The reference interpreter ignores aliases (`check` compares graphs the pass leaves
        // unchanged); the executor honours them, so only it can show an alias that clobbers.
        let executor = try Executor(model: m, options: .init(maxBatch: 2, threads: 1, passes: [InPlacePass()]))
        let x = Fixture.input([2, 3, 6, 6])
        #expect(
            maxDifference(
                try executor.run(["image": x])["y"], try ReferenceInterpreter(model: m).run(["image": x])["y"]) < 1e-5)
    }

    @Test func theFullPipelineShrinksWRN() throws {
        let m = try Fixture.model(.wideResNet(depth: 16, widen: 1))
        let result = try Compiler.compile(m)
        #expect(result.nodesBefore == 50)
        #expect(result.unit.graph.nodes.count < 25)
        #expect(result.fusedOps["fused_conv2d+residual"] == 6)
        // Compiled graphs hold in-memory ops, which model files refuse to store.
        let compiled = Model(graph: result.unit.graph, parameters: result.unit.parameters, metadata: m.metadata)
        let dir = TemporaryDirectory()
        #expect { try ModelFile.write(compiled, to: dir.file("compiled.h5")) } throws: {
            "\($0)".contains("in-memory op")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("compiled.h5")))
    }
}
