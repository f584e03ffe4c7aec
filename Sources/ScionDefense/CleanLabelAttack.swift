import ScionGraph
import ScionImage
import ScionTraining

/// The adversarial images of the `cl` attack (Turner et al.'s label-consistent backdoor): each
/// target-class training image is pushed away from its own class by PGD under an L∞ bound
/// (ε = 16/255 as the reference's `inf_16.npy`), against a clean model Scion trained, so the
/// model must lean on the trigger to classify it. As in Turner et al., the clean model should be
/// adversarially robust (`scion train --adversarial-epsilon 8`): a standard model's
/// perturbations barely transfer to the model being poisoned, which then learns the images
/// without the trigger.
public enum CleanLabelAttack {
    public struct Settings: Sendable {
        public var epsilon: Float = 16 / 255
        public var stepSize: Float = 2 / 255
        public var steps = 10
        public var batchSize = 128
        public var threads = 2
        public init() {}
    }

    /// Perturbed copies of every `target`-class image of `data` (uint8, HWC, the whole set in
    /// its order; other images unchanged).
    public static func perturb(
        _ data: ImageSet, model: Model, target: Int, settings: Settings = Settings(),
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> [UInt8] {
        var frozen = model
        for i in frozen.graph.parameters.indices { frozen.graph.parameters[i].trainable = false }
        guard let logits = frozen.graph.outputs.first else {
            throw DefenseError.invalidSettings("the clean-label model has no outputs")
        }
        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: logits, target: .input("target"))],
            trainModeNodes: [], inputGradients: [frozen.graph.inputs[0]])
        let optimizer = Optimizer(kind: .adam, groups: [])
        let session = try TrainingSession(
            model: frozen, spec: spec, optimizer: optimizer, batchSize: settings.batchSize, threads: settings.threads)
        var out = data.pixels
        let members = (0..<data.count).filter { data.labels[$0] == Int32(target) }
        let perImage = data.imageSize, plane = data.height * data.width
        for start in stride(from: 0, to: members.count, by: settings.batchSize) {
            let batch = Array(members[start..<min(start + settings.batchSize, members.count)])
            var clean = [Float](repeating: 0, count: batch.count * perImage)
            clean.withUnsafeMutableBufferPointer { p in
                for (j, i) in batch.enumerated() { data.appendFloats(i, to: p.baseAddress! + j * perImage) }
            }
            var targets = [Float](repeating: 0, count: batch.count * data.classes)
            for j in batch.indices { targets[j * data.classes + target] = 1 }
            var x = clean
            for _ in 0..<settings.steps {
                _ = try session.forwardBackward(
                    Batch(images: x, targets: targets, labels: batch.map { _ in Int32(target) }), seed: 0)
                guard let grad = session.gradient(frozen.graph.inputs[0], batch: batch.count) else { break }
                SignedGradientStep.apply(
                    to: &x, gradient: grad, around: clean, stepSize: settings.stepSize, epsilon: settings.epsilon)
            }
            for (j, i) in batch.enumerated() {
                for c in 0..<data.channels {
                    for p in 0..<plane {
                        out[i * perImage + p * data.channels + c] = UInt8(
                            (x[j * perImage + c * plane + p] * 255).rounded())
                    }
                }
            }
            progress?(min(start + settings.batchSize, members.count), members.count)
        }
        return out
    }
}
