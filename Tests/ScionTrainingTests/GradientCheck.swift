import ScionGraph
import ScionRuntime
import ScionTraining
import Testing

/// Finite-difference checks of reverse-mode gradients, run on the reference interpreter in
/// fp32: central differences with step `epsilon` against the analytic gradient, on a sample of
/// coordinates of every input and trainable parameter. Tolerance: |numeric − analytic| ≤
/// `absolute` + `relative` · |analytic|.
struct GradientCheck {
    var epsilon: Float = 1e-2
    var absolute: Float = 3e-3
    var relative: Float = 3e-2
    var samplesPerTensor = 12

    /// Builds a graph with `body` (input `x` of `inputShape`), adds `losses` (or an MSE against a
    /// random target on the graph's first output), and checks every gradient.
    func check(
        _ label: String, inputShape: [Int], batch: Int = 2, inputValues: ((Int) -> Float)? = nil,
        trainMode: Set<String>? = nil, losses: [LossTerm]? = nil, extraInputs: [String: Tensor] = [:],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (inout GraphBuilder, GraphBuilder.Value) -> Void
    ) throws {
        var b = GraphBuilder(name: label)
        let x = b.input("x", .batched(inputShape))
        body(&b, x)
        let net = try b.finish()
        var rng = SeededGenerator(seed: 11)
        var parameters = net.initialParameters(seed: 5)
        for p in net.graph.parameters where p.role == .runningVar {
            parameters[p.name] = Tensor(
                shape: p.shape, values: (0..<p.elementCount).map { _ in Float(0.5 + rng.nextDouble()) })
        }
        let output = net.graph.outputs[0]
        let terms = losses ?? [LossTerm("mse", .mse, prediction: output, target: .input("target"))]
        let spec = TrainingSpec(losses: terms, trainModeNodes: trainMode, inputGradients: ["x"])
        let training = try Autodiff.trainingGraph(for: net.graph, spec: spec)
        var feeds: [String: Tensor] = [
            "x": Tensor(
                shape: [batch] + inputShape,
                values: (0..<(batch * inputShape.reduce(1, *))).map {
                    inputValues?($0) ?? Float(rng.nextDouble() * 2 - 1)
                })
        ]
        for target in training.targetInputs where feeds[target] == nil {
            let type = training.graph.values[target]!
            feeds[target] =
                extraInputs[target]
                ?? Tensor(
                    shape: type.resolvedShape(batch: batch),
                    values: (0..<type.elementCount(batch: batch)).map { _ in Float(rng.nextDouble()) })
        }
        var model = Model(
            graph: training.graph, parameters: parameters.merging(training.constants) { a, _ in a },
            metadata: ModelMetadata(modelName: label, labels: [], input: InputSpec(channels: 1, height: 1, width: 1)))
        let interpreter = try ReferenceInterpreter(model: model)
        let analytic = try interpreter.run(feeds, seed: 3)
        let loss = { (m: Model, f: [String: Tensor]) throws -> Float in
            try ReferenceInterpreter(model: m).run(f, seed: 3)[training.totalLoss]!.floats[0]
        }
        var checked = 0
        // Input gradient.
        if let grad = training.inputGradients["x"] {
            checked += try compare("\(label) d/dx", analytic[grad]!.floats, feeds["x"]!, sourceLocation: sourceLocation)
            { perturbed in
                var f = feeds
                f["x"] = perturbed
                return try loss(model, f)
            }
        }
        for (name, grad) in training.parameterGradients.sorted(by: { $0.key < $1.key }) {
            checked += try compare(
                "\(label) d/d\(name)", analytic[grad]!.floats, model.parameters[name]!, sourceLocation: sourceLocation
            ) { perturbed in
                let saved = model.parameters[name]
                model.parameters[name] = perturbed
                defer { model.parameters[name] = saved }
                return try loss(model, feeds)
            }
        }
        #expect(checked > 0, "\(label): nothing was checked", sourceLocation: sourceLocation)
    }

    /// Compares `analytic` with central differences of `f` at a sample of coordinates.
    private func compare(
        _ label: String, _ analytic: [Float], _ point: Tensor, sourceLocation: SourceLocation,
        _ f: (Tensor) throws -> Float
    ) throws -> Int {
        let values = point.floats
        let stride = max(1, values.count / samplesPerTensor)
        var checked = 0
        for i in Swift.stride(from: 0, to: values.count, by: stride) {
            var up = values, down = values
            up[i] += epsilon
            down[i] -= epsilon
            let numeric =
                (try f(Tensor(shape: point.shape, values: up)) - f(Tensor(shape: point.shape, values: down)))
                / (2 * epsilon)
            let error = abs(numeric - analytic[i])
            #expect(
                error <= absolute + relative * abs(analytic[i]),
                "\(label)[\(i)]: numeric \(numeric), analytic \(analytic[i])", sourceLocation: sourceLocation)
            checked += 1
        }
        return checked
    }
}
