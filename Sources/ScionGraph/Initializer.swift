/// How a parameter's initial values are drawn. Fans follow PyTorch: for a weight of shape
/// `[a, b, k...]`, fan_in = b·∏k and fan_out = a·∏k.
public enum Initializer: Hashable, Sendable {
    case zeros
    case ones
    case normal(std: Double)
    case uniform(bound: Double)

    /// Kaiming (He) normal: std = gain / sqrt(fan). `gain` is √2 for ReLU and for LeakyReLU
    /// with PyTorch's default a = 0, which is what the reference networks pass.
    public static func kaimingNormal(shape: [Int], fanOut: Bool, gain: Double = 2.0.squareRoot()) -> Initializer {
        let (fanIn, fanOutValue) = fans(shape)
        return .normal(std: gain / Double(fanOut ? fanOutValue : fanIn).squareRoot())
    }

    /// Xavier (Glorot) normal with gain 1: std = sqrt(2 / (fan_in + fan_out)).
    public static func xavierNormal(shape: [Int]) -> Initializer {
        let (fanIn, fanOut) = fans(shape)
        return .normal(std: (2.0 / Double(fanIn + fanOut)).squareRoot())
    }

    /// PyTorch's default for conv and linear layers, weights and biases alike:
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in taken from the weight's shape.
    public static func pytorchDefault(weightShape: [Int]) -> Initializer {
        .uniform(bound: 1.0 / Double(max(fans(weightShape).fanIn, 1)).squareRoot())
    }

    /// PyTorch's fan computation for a weight shape.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Draws `count` values.
    public func sample(count: Int, using rng: inout SeededGenerator) -> [Float] {
        switch self {
        case .zeros: return [Float](repeating: 0, count: count)
        case .ones: return [Float](repeating: 1, count: count)
        case .normal(let std): return (0..<count).map { _ in Float(rng.nextNormal() * std) }
        case .uniform(let bound): return (0..<count).map { _ in Float((rng.nextDouble() * 2 - 1) * bound) }
        }
    }
}

/// A graph together with how to initialise each parameter: what a zoo function returns.
public struct NetworkDefinition: Sendable {
    public var graph: Graph
    public var initializers: [String: Initializer]

    public init(graph: Graph, initializers: [String: Initializer]) {
        self.graph = graph
        self.initializers = initializers
    }

    /// Fresh parameter values. Each parameter draws from its own stream derived from `seed`
    /// and its name, so a parameter's initial values do not depend on the others.
    public func initialParameters(seed: UInt64) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in graph.parameters {
            var rng = SeededGenerator.derive(seed: seed, stream: p.name)
            let initializer = initializers[p.name] ?? .zeros
            out[p.name] = Tensor(shape: p.shape, values: initializer.sample(count: p.elementCount, using: &rng))
        }
        return out
    }
}
