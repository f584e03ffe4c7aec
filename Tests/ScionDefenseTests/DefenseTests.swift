import Foundation
import ScionData
import ScionDefense
import ScionFormat
import ScionGraph
import ScionImage
import ScionRuntime
import ScionTestSupport
import ScionTraining
import ScionZoo
import Testing

@Suite struct DefenseTests {
    let dir = TemporaryDirectory()

    /// `train` training and `test` test 12x12 RGB images of 4 classes (class k < 3 is brighter in
    /// channel k, class 3 in all: unchanged by crops and flips), poisoned with badnet_grid toward class 1.
    static func poisoned(train: Int = 400, test: Int = 100) throws -> PoisonedDataset {
        func set(_ n: Int, seed: UInt64) -> ImageSet {
            var rng = SeededGenerator(seed: seed)
            var pixels: [UInt8] = []
            for i in 0..<n {
                let k = i % 4
                for _ in 0..<12 {
                    for _ in 0..<12 {
                        for c in 0..<3 {
                            let bright = c == k || k == 3
                            pixels.append(UInt8((bright ? 170 : 60) + rng.nextInt(below: 50)))
                        }
                    }
                }
            }
            return ImageSet(
                pixels: pixels, labels: (0..<n).map { Int32($0 % 4) }, height: 12, width: 12, channels: 3, classes: 4)
        }
        let data = LoadedDataset(name: .cifar10, train: set(train, seed: 1), test: set(test, seed: 2))
        let trigger = try TriggerFactory.make(.badnetGrid, height: 12, width: 12, channels: 3, seed: 0)
        return try Poisoning.apply(
            data, ratioHoldout: 0.1, splitSeed: nil, attack: AttackConfiguration(trigger: trigger, target: 1))
    }

    func settings(_ stage: Stage) -> StageSettings {
        var s = StageSettings.defaults(for: stage, arch: .cnnSmall)
        s.epochs = 2
        s.batchSize = stage == .replace ? 8 : 32
        s.learningRate = stage == .replace ? 0.01 : 1e-3
        s.threads = 2
        s.showProgress = false
        return s
    }

    @Test func theStagesProduceAStandaloneSanitizedModelWithItsLineage() throws {
        let data = try Self.poisoned()
        let context = RunContext(
            dataset: "synthetic", pattern: "badnet_grid", target: 1, triggeredRatio: 0.1, ratioHoldout: 0.1,
            triggerSeed: 0)
        let runner = StageRunner(data: data, context: context, folder: dir.path)
        let undefended = try runner.trainUndefended(settings(.train))
        let trapped = try runner.trap(settings(.trap))
        let sanitized = try runner.replace(stage1: trapped, settings(.replace))
        #expect(trapped.graph.outputs == ["logits", "reconstruction"])
        #expect(sanitized.graph.outputs == ["logits"])
        #expect(!sanitized.graph.parameters.contains { $0.name.hasPrefix("decoder") })
        #expect(sanitized.provenance.headReplaced && !undefended.provenance.headReplaced)
        let operations = sanitized.provenance.lineage.map(\.operation)
        #expect(operations == ["init", "trap", "cut", "graft", "replace"])
        let graft = try #require(sanitized.provenance.lineage.first { $0.operation == "graft" })
        #expect(graft.parents.count == 2 && graft.details["cut"] == "stem3")
        let replace = try #require(sanitized.provenance.lineage.last)
        #expect(replace.details["fingerprint_holdout"]?.stringValue == data.fingerprints["holdout"])
        #expect(replace.details["acc"]?.numberValue != nil && replace.details["asr"]?.numberValue != nil)
        // The stem's weights are the trapped model's, untouched by stage 2.
        #expect(sanitized.parameters["block1.conv.weight"] == trapped.parameters["block1.conv.weight"])
        #expect(sanitized.parameters["block2.bn.running_mean"] == trapped.parameters["block2.bn.running_mean"])
        #expect(sanitized.parameters["fc.weight"] != trapped.parameters["fc.weight"])
        // Files, logs and the report.
        for file in [
            "undefended.h5", "trapped.h5", "sanitized.h5", "train.jsonl", "trap.jsonl", "replace.jsonl",
            "replace.ckpt.h5"
        ] {
            #expect(FileManager.default.fileExists(atPath: dir.file(file)), "\(file)")
        }
        let report = try RunReport.collect(dir.path)
        try report.write()
        #expect(report.stages.count == 3)
        let markdown = try String(contentsOfFile: dir.file("report.md"), encoding: .utf8)
        #expect(markdown.contains("T&R, replaced head") && markdown.contains("| no trigger |"))
        #expect(report.stages.values.allSatisfy { $0.clean_to_target != nil })
        #expect(FileManager.default.fileExists(atPath: dir.file("curves.png")))
        // The sanitized model compiles and serves like any other.
        _ = try Executor(model: try ModelFile.read(dir.file("sanitized.h5")), options: .init(maxBatch: 4, threads: 1))
    }

    /// A model of `poisoned()`'s images that always answers `label`.
    static func constantModel(answering label: Int) throws -> Model {
        var b = GraphBuilder(name: "constant")
        b.output(b.linear(b.flatten(b.input("image", .batched([3, 12, 12]))), out: 4, name: "fc"), as: "logits")
        let net = try b.finish()
        var bias = [Float](repeating: 0, count: 4)
        bias[label] = 100
        return Model(
            graph: net.graph,
            parameters: [
                "fc.weight": Tensor(shape: [4, 432], repeating: 0), "fc.bias": Tensor(shape: [4], values: bias)
            ],
            metadata: ModelMetadata(modelName: "c", labels: [], input: InputSpec(channels: 3, height: 12, width: 12)))
    }

    @Test func evaluationCountsAccuracyAndAttackSuccess() throws {
        let model = try Self.constantModel(answering: 1)
        let data = try Self.poisoned()
        let metrics = try Evaluation.measure(
            model, clean: data.test, triggered: data.triggeredTest, target: 1, threads: 2, precision: .fp32)
        #expect(metrics.acc == 0.25 && metrics.asr == 1)
        // It calls every clean image the target too: the trigger adds nothing over that floor.
        #expect(metrics.clean_to_target == 1)
        #expect(
            try Evaluation.measure(model, clean: data.test, triggered: nil, target: 1, threads: 2, precision: .fp32)
                .clean_to_target
                == nil)
        #expect(
            metrics.per_class["1"]?.acc == 1 && metrics.per_class["0"]?.asr == 1 && metrics.per_class["1"]?.asr == nil)
    }

    @Test func surgeryRecordsLineageAndRefusesABadSeam() throws {
        let net = try Zoo.classifier(.cnnSmall, classes: 4, input: [1, 28, 28])
        let model = Model(
            graph: net.graph, parameters: net.initialParameters(seed: 1),
            metadata: ModelMetadata(modelName: "m", labels: [], input: InputSpec(channels: 1, height: 28, width: 28)))
        let (stem, head) = try ModelSurgery.cut(model, at: "stem3")
        let parent = try ContentHash.of(model)
        #expect(stem.provenance.lineage.last?.operation == "cut" && stem.provenance.lineage.last?.parents == [parent])
        let rejoined = try ModelSurgery.graft(stem: stem, head: head)
        let x = Tensor(shape: [2, 1, 28, 28], values: (0..<1568).map { Float($0 % 17) / 17 })
        let a = try ReferenceInterpreter(model: model).run(["image": x])["logits"]!
        let b = try ReferenceInterpreter(model: rejoined).run(["image": x])["logits"]!
        #expect(a == b)
        // Reattaching the head that was cut off is not a head replacement; a new head is.
        #expect(!rejoined.provenance.headReplaced)
        var trained = head
        trained.provenance = head.provenance.appending(LineageStep(operation: LineageStep.train))
        #expect(try ModelSurgery.graft(stem: stem, head: trained).provenance.headReplaced)
        let (stem2, _) = try ModelSurgery.cut(model, at: "stem1")
        #expect(throws: GraphError.self) { try ModelSurgery.graft(stem: stem2, head: head) }
    }
}
