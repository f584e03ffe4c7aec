import ScionGraph

/// Reverse-mode differentiation as a graph transform: from a model graph and a `TrainingSpec`,
/// a graph computing the forward pass in train mode, the losses and every needed gradient.
///
/// The result is an ordinary graph, so the same compiler and memory planner schedule it: saved
/// activations stay live exactly until their backward use, and values that lead to no trainable
/// parameter get no gradient (a frozen stem costs only its forward pass).
///
/// ```swift
/// let spec = TrainingSpec(losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))])
/// let training = try Autodiff.trainingGraph(for: model.graph, spec: spec)
/// ```
public enum Autodiff {
    public static func trainingGraph(for forward: Graph, spec: TrainingSpec) throws -> TrainingGraph {
        var builder = TrainingGraphBuilder(forward: forward, spec: spec)
        return try builder.build()
    }
}

struct TrainingGraphBuilder {
    var g: Graph
    let forward: Graph
    let spec: TrainingSpec
    /// Gradient contributions to each value, summed when first needed.
    var contributions: [String: [String]] = [:]
    var needsGrad = Set<String>()
    var runningStatistics: [String: String] = [:]
    var targets: [String] = []
    var losses: [String: String] = [:]
    /// Data of constant parameters the backward pass adds.
    var constants: [String: Tensor] = [:]

    init(forward: Graph, spec: TrainingSpec) {
        self.forward = forward
        self.spec = spec
        g = forward
        g.outputs = []
    }

    mutating func build() throws -> TrainingGraph {
        try forward.verify()
        switchToTrainMode()
        let total = try addLosses()
        markDifferentiableValues()
        try seedLossGradients()
        let forwardCount = g.nodes.count - spec.losses.count - 1
        for index in (0..<forwardCount).reversed() {
            let node = g.nodes[index]
            guard let dy = gradient(of: node.output) else { continue }
            try differentiate(node, dy: dy)
        }
        var parameterGradients: [String: String] = [:]
        for p in forward.parameters where p.trainable {
            if let grad = gradient(of: p.name) { parameterGradients[p.name] = grad }
        }
        var inputGradients: [String: String] = [:]
        for input in spec.inputGradients {
            if let grad = gradient(of: input) { inputGradients[input] = grad }
        }
        var outputs = losses.keys.sorted().map { losses[$0]! } + [total]
        outputs += parameterGradients.keys.sorted().map { parameterGradients[$0]! }
        outputs += inputGradients.keys.sorted().map { inputGradients[$0]! }
        outputs += runningStatistics.keys.sorted().map { runningStatistics[$0]! }
        outputs += spec.keepOutputs
        g.outputs = outputs.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        g.cutPoints = []
        try g.inferTypes()
        return TrainingGraph(
            graph: g, losses: losses, totalLoss: total, parameterGradients: parameterGradients,
            inputGradients: inputGradients, runningStatistics: runningStatistics, targetInputs: targets,
            constants: constants)
    }

    /// BatchNorm and dropout nodes in train mode become their training forms; their extra
    /// outputs (batch statistics, updated running statistics, dropout mask) get names of their own.
    mutating func switchToTrainMode() {
        for i in g.nodes.indices where spec.isTrainMode(g.nodes[i]) {
            let y = g.nodes[i].output
            switch g.nodes[i].op {
            case .batchNorm:
                g.nodes[i].op = .batchNormTrain
                g.nodes[i].outputs = [y, "\(y):mean", "\(y):invstd", "\(y):running_mean", "\(y):running_var"]
                runningStatistics[g.nodes[i].inputs[3]] = "\(y):running_mean"
                runningStatistics[g.nodes[i].inputs[4]] = "\(y):running_var"
            case .dropout:
                g.nodes[i].op = .dropoutTrain
                g.nodes[i].outputs = [y, "\(y):mask"]
            default:
                break
            }
        }
    }

    /// Appends one node per loss term and their weighted sum; returns the total's name.
    mutating func addLosses() throws -> String {
        for term in spec.losses {
            guard let type = forward.values[term.prediction] else {
                throw GraphError.output(
                    name: term.prediction, problem: "loss '\(term.name)' predicts a value the graph does not have")
            }
            var inputs = [term.prediction]
            switch term.target {
            case .input(let name):
                if g.values[name] == nil {
                    g.inputs.append(name)
                    g.values[name] = type
                    targets.append(name)
                }
                inputs.append(name)
            case .value(let name): inputs.append(name)
            case .none: break
            }
            let name = "loss:\(term.name)"
            g.nodes.append(Node(name: name, op: term.forwardOp, inputs: inputs, outputs: [name]))
            losses[term.name] = name
        }
        let total = "loss:total"
        g.nodes.append(
            Node(
                name: total, op: .weightedSum, inputs: spec.losses.map { "loss:\($0.name)" }, outputs: [total],
                attributes: ["weights": .floats(spec.losses.map(\.weight))]))
        return total
    }

    /// Values that depend on a trainable parameter or a requested input.
    mutating func markDifferentiableValues() {
        needsGrad = Set(forward.parameters.filter(\.trainable).map(\.name)).union(spec.inputGradients)
        for node in g.nodes where node.inputs.contains(where: needsGrad.contains) {
            needsGrad.insert(node.output)
        }
    }

    /// Each loss term's gradient with respect to its prediction, and to its target when the
    /// target is a value that needs a gradient (MSE and L1 are symmetric: the target's gradient
    /// is the prediction's with the opposite sign).
    mutating func seedLossGradients() throws {
        for term in spec.losses {
            let loss = g.nodes.first { $0.name == "loss:\(term.name)" }!
            if needsGrad.contains(term.prediction) {
                let grad = emit(
                    "grad:loss:\(term.name)", term.gradientOp, loss.inputs, attributes: ["scale": .float(term.weight)])
                contributions[term.prediction, default: []].append(grad)
            }
            if case .value(let target) = term.target, needsGrad.contains(target) {
                guard term.kind == .mse || term.kind == .l1 else {
                    throw GraphError.shape(
                        node: loss.name, problem: "the target of a \(term.kind.rawValue) loss cannot be differentiated")
                }
                let grad = emit(
                    "grad:loss:\(term.name):target", term.gradientOp, loss.inputs,
                    attributes: ["scale": .float(-term.weight)])
                contributions[target, default: []].append(grad)
            }
        }
    }

    /// The gradient of `value`: its contributions summed (once; later calls reuse the sum).
    mutating func gradient(of value: String) -> String? {
        guard let parts = contributions[value], !parts.isEmpty else { return nil }
        if parts.count == 1 { return parts[0] }
        var sum = parts[0]
        for (k, part) in parts.dropFirst().enumerated() {
            sum = emit("grad:\(value)#\(k + 1)", .add, [sum, part])
        }
        contributions[value] = [sum]
        return sum
    }

    /// Appends a node with one output named like the node; returns the output.
    @discardableResult
    mutating func emit(_ name: String, _ op: OpType, _ inputs: [String], attributes: [String: AttributeValue] = [:])
        -> String
    {
        var unique = name
        var k = 1
        while g.values[unique] != nil || g.nodes.contains(where: { $0.name == unique }) {
            unique = "\(name)~\(k)"
            k += 1
        }
        g.nodes.append(Node(name: unique, op: op, inputs: inputs, outputs: [unique], attributes: attributes))
        g.values[unique] = TensorType(.float32, [])  // placeholder; inferTypes() sets the real type
        return unique
    }

    /// Emits a multi-output node; returns its outputs.
    mutating func emitMulti(
        _ name: String, _ op: OpType, _ inputs: [String], outputs: Int, attributes: [String: AttributeValue] = [:]
    ) -> [String] {
        let names = (0..<outputs).map { "\(name):\($0)" }
        g.nodes.append(Node(name: name, op: op, inputs: inputs, outputs: names, attributes: attributes))
        for n in names { g.values[n] = TensorType(.float32, []) }
        return names
    }

    mutating func contribute(_ grad: String, to value: String) {
        contributions[value, default: []].append(grad)
    }

    func wants(_ value: String) -> Bool { needsGrad.contains(value) }

    func sampleShape(_ value: String) -> [Int] {
        forward.values[value]?.sampleShape ?? g.values[value]?.sampleShape ?? []
    }
}
