import ScionCompiler
import ScionGraph
import ScionRuntime
import ScionTestSupport
import ScionZoo
import Testing

@Suite struct ExecutorTests {
    @Test(arguments: [
        (Architecture.wideResNet(depth: 16, widen: 1), [3, 32, 32]),
        (Architecture.cnnSmall, [1, 28, 28]),
        (Architecture.resNet18, [3, 16, 16]),
        (Architecture.resNet34, [3, 32, 32])
    ])
    func compiledMatchesReferenceWithAndWithoutPasses(arch: Architecture, input: [Int]) throws {
        let model = try Fixture.model(arch, input: input)
        let reference = try ReferenceInterpreter(model: model)
        for batch in [1, 3] {
            let x = Fixture.input([batch] + input)
            let expected = try reference.run(["image": x])["logits"]
            for passes in [Compiler.standardPasses, []] {
                let executor = try Executor(model: model, options: .init(maxBatch: 4, threads: 2, passes: passes))
                let got = try executor.run(["image": x])["logits"]
                #expect(maxDifference(got, expected) < 1e-4, "\(arch) batch \(batch) passes \(passes.count)")
                #expect(executor.fallbackNodes.isEmpty)
            }
        }
    }
}
