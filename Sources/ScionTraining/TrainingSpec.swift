import ScionGraph

/// One term of a training loss, weighted into the total.
public struct LossTerm: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// Cross-entropy of softmax(prediction) against soft targets `[N, classes]` (one-hot,
        /// label-smoothed or CutMix-mixed; the data pipeline builds them); a negative target `-a`
        /// costs `-a·log(1 - p)` instead (unlikelihood, `BatchLoader.unlearn`).
        case crossEntropy = "ce"
        case mse
        case l1
        /// Total variation of the prediction (no target), as the reference defines it.
        case totalVariation = "tv"
    }

    /// Where a loss term's target comes from.
    public enum Target: Sendable, Hashable {
        /// A new graph input of the prediction's type, fed with each batch.
        case input(String)
        /// An existing value of the graph (e.g. the input image, for reconstruction).
        case value(String)
        case none
    }

    public var name: String
    public var kind: Kind
    public var prediction: String
    public var target: Target
    public var weight: Double

    public init(_ name: String, _ kind: Kind, prediction: String, target: Target, weight: Double = 1) {
        self.name = name
        self.kind = kind
        self.prediction = prediction
        self.target = target
        self.weight = weight
    }

    var forwardOp: OpType {
        switch kind {
        case .crossEntropy: return .crossEntropy
        case .mse: return .mseLoss
        case .l1: return .l1Loss
        case .totalVariation: return .tvLoss
        }
    }

    var gradientOp: OpType {
        switch kind {
        case .crossEntropy: return .crossEntropyGrad
        case .mse: return .mseLossGrad
        case .l1: return .l1LossGrad
        case .totalVariation: return .tvLossGrad
        }
    }
}

/// What to differentiate and how: the loss terms, which nodes run in train mode (BatchNorm on
/// batch statistics, dropout active; the others use running statistics and no dropout), which
/// forward values to keep as outputs, and which graph inputs also need gradients (for
/// adversarial examples).
public struct TrainingSpec: Sendable {
    public var losses: [LossTerm]
    /// Names of the nodes in train mode; nil means every node.
    public var trainModeNodes: Set<String>?
    public var keepOutputs: [String]
    public var inputGradients: [String]

    public init(
        losses: [LossTerm], trainModeNodes: Set<String>? = nil, keepOutputs: [String] = [],
        inputGradients: [String] = []
    ) {
        self.losses = losses
        self.trainModeNodes = trainModeNodes
        self.keepOutputs = keepOutputs
        self.inputGradients = inputGradients
    }

    func isTrainMode(_ node: Node) -> Bool { trainModeNodes?.contains(node.name) ?? true }
}

/// A graph that computes the losses and the gradients in one pass, with the names of what it
/// produces.
public struct TrainingGraph: Sendable {
    public var graph: Graph
    /// Loss term name → scalar output; plus `total`.
    public var losses: [String: String]
    public var totalLoss: String
    /// Trainable parameter → its gradient output. Parameters that receive no gradient (their
    /// nodes do not reach a loss) are absent, and optimizers skip them as PyTorch does.
    public var parameterGradients: [String: String]
    /// Input → its gradient output (for `TrainingSpec.inputGradients`).
    public var inputGradients: [String: String]
    /// Running-statistics parameter → the output holding its updated value.
    public var runningStatistics: [String: String]
    /// Inputs the caller feeds besides the model's own (loss targets).
    public var targetInputs: [String]
    /// Data of constant parameters the backward pass added (beyond the model's own).
    public var constants: [String: Tensor]
}
