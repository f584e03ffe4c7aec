import ScionData
import ScionGraph
import ScionTraining
import ScionZoo
import Testing

@Suite struct CleanLabelTests {
    @Test func pgdStaysWithinEpsilonAndOnlyTouchesTheTargetClass() throws {
        let data = PoisoningTests.dataset()
        var b = GraphBuilder(name: "tiny")
        let x = b.input("image", .batched([3, 12, 12]))
        let h = b.relu(b.batchNorm(b.conv2d(x, out: 6, kernel: 3, padding: 1, name: "c"), name: "bn"))
        b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 4, name: "fc"), as: "logits")
        let net = try b.finish()
        let model = Model(graph: net.graph, parameters: net.initialParameters(seed: 3),
                          metadata: ModelMetadata(modelName: "tiny", labels: [], input: InputSpec(channels: 3, height: 12, width: 12)))
        var settings = CleanLabelAttack.Settings()
        settings.steps = 3
        settings.batchSize = 16
        let adversarial = try CleanLabelAttack.perturb(data.train, model: model, target: 1, settings: settings)
        var moved = 0
        for i in 0..<data.train.count {
            let range = i * 432..<(i + 1) * 432
            let delta = zip(adversarial[range], data.train.pixels[range]).map { abs(Int($0) - Int($1)) }.max() ?? 0
            if data.train.labels[i] == 1 {
                #expect(delta <= 17, "image \(i) moved by \(delta)")  // 16/255 plus rounding
                if delta > 0 { moved += 1 }
            } else {
                #expect(delta == 0)
            }
        }
        #expect(moved > 0)
    }
}
