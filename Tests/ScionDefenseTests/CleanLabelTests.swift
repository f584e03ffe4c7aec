import Foundation
import ScionData
import ScionDefense
import ScionGraph
import ScionImage
import ScionRuntime
import ScionTestSupport
import ScionTraining
import ScionZoo
import Testing

@Suite struct CleanLabelTests {
    @Test func pgdStaysWithinEpsilonAndOnlyTouchesTheTargetClass() throws {
        let train = SyntheticImages.cycling(200, offset: 0)
        var b = GraphBuilder(name: "tiny")
        let x = b.input("image", .batched([3, 12, 12]))
        let h = b.relu(b.batchNorm(b.conv2d(x, out: 6, kernel: 3, padding: 1, name: "c"), name: "bn"))
        b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 4, name: "fc"), as: "logits")
        let net = try b.finish()
        let model = Model(
            graph: net.graph, parameters: net.initialParameters(seed: 3),
            metadata: ModelMetadata(modelName: "tiny", labels: [], input: InputSpec(channels: 3, height: 12, width: 12))
        )
        var settings = CleanLabelAttack.Settings()
        settings.steps = 3
        settings.batchSize = 16
        let adversarial = try CleanLabelAttack.perturb(train, model: model, target: 1, settings: settings)
        var moved = 0
        for i in 0..<train.count {
            let range = i * 432..<(i + 1) * 432
            let delta = zip(adversarial[range], train.pixels[range]).map { abs(Int($0) - Int($1)) }.max() ?? 0
            if train.labels[i] == 1 {
                #expect(delta <= 17, "image \(i) moved by \(delta)")  // 16/255 plus rounding
                if delta > 0 { moved += 1 }
            } else {
                #expect(delta == 0)
            }
        }
        #expect(moved > 0)
        // PGD ascends the loss of the true label: the perturbed images are harder for the model
        // (a flipped gradient sign would make them easier).
        let members = (0..<train.count).filter { train.labels[$0] == 1 }
        var perturbed = train
        perturbed.pixels = adversarial
        let before = try Self.meanLoss(model, train, members, label: 1),
            after = try Self.meanLoss(model, perturbed, members, label: 1)
        #expect(after > before, "cross-entropy at the true label \(before) -> \(after)")
    }

    /// Mean cross-entropy of `label` over images `members` of `set`, by the reference interpreter.
    static func meanLoss(_ model: Model, _ set: ImageSet, _ members: [Int], label: Int) throws -> Double {
        var x = [Float](repeating: 0, count: members.count * set.imageSize)
        x.withUnsafeMutableBufferPointer { p in
            for (j, i) in members.enumerated() { set.appendFloats(i, to: p.baseAddress! + j * set.imageSize) }
        }
        let input = Tensor(shape: [members.count, set.channels, set.height, set.width], values: x)
        let logits = try #require(try ReferenceInterpreter(model: model).run(["image": input])["logits"]).floats
        let k = logits.count / members.count
        return members.indices.reduce(0.0) { total, j in
            let row = logits[(j * k)..<((j + 1) * k)].map(Double.init)
            let top = row.max() ?? 0
            return total + (log(row.reduce(0) { $0 + exp($1 - top) }) + top - row[label])
        } / Double(members.count)
    }
}
