import ScionGraph

/// Fast adversarial training (Wong, Rice and Kolter, "Fast is better than free", ICLR 2020):
/// each batch is replaced by one FGSM step from a uniformly random start inside the L∞ ball, so
/// the model learns features a small perturbation cannot move. It costs one more forward and
/// backward pass per step. Used for the source model of the `cl` attack: Turner et al.'s
/// perturbations come from an adversarially robust model, whose gradients point at other
/// classes' features; a standard model's barely transfer to the model being poisoned.
public struct AdversarialTraining: Sendable, Equatable {
    /// The L∞ bound, on pixels scaled to [0, 1].
    public var epsilon: Float
    /// The FGSM step (the paper's 1.25 ε by default).
    public var stepSize: Float
    /// The graph input the perturbation is applied to; the session's spec must ask for its
    /// gradient (`TrainingSpec.inputGradients`).
    public var input: String

    public init(epsilon: Float, stepSize: Float? = nil, input: String) {
        self.epsilon = epsilon
        self.stepSize = stepSize ?? 1.25 * epsilon
        self.input = input
    }

    /// `batch` with its images perturbed against `session`'s current parameters (labels and
    /// targets unchanged). The parameters and running statistics are not updated.
    public func perturb(_ batch: Batch, session: TrainingSession, seed: UInt64) throws -> Batch {
        var random = SeededGenerator(seed: seed)
        var start = batch.images
        for k in start.indices {
            start[k] = min(max(start[k] + Float.random(in: -epsilon...epsilon, using: &random), 0), 1)
        }
        var probe = batch
        probe.images = start
        _ = try session.forwardBackward(probe, seed: seed)
        guard let gradient = session.gradient(input, batch: batch.count) else {
            throw TrainingError.missingInputGradient(input)
        }
        SignedGradientStep.apply(
            to: &start, gradient: gradient, around: batch.images, stepSize: stepSize, epsilon: epsilon)
        probe.images = start
        return probe
    }
}

/// One step of the fast gradient sign method, shared by adversarial training and the `cl`
/// attack's PGD.
public enum SignedGradientStep {
    /// `x` moved by `stepSize` along the sign of `gradient` (up the loss), then projected into
    /// the L∞ ball of radius `epsilon` around `clean` and into [0, 1].
    public static func apply(
        to x: inout [Float], gradient: [Float], around clean: [Float], stepSize: Float, epsilon: Float
    ) {
        for k in x.indices {
            let g = gradient[k]
            let stepped = x[k] + (g > 0 ? stepSize : g < 0 ? -stepSize : 0)
            x[k] = min(max(stepped, clean[k] - epsilon, 0), min(clean[k] + epsilon, 1))
        }
    }
}
