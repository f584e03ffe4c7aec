import ScionGraph
import ScionRuntime

/// An optimizer with PyTorch's semantics:
/// - SGD: `g = grad + wd·p`; with momentum `buf = μ·buf + g` (the first step sets `buf = g`);
///   Nesterov uses `g + μ·buf`, otherwise `buf`; then `p -= lr·g`.
/// - Adam: `g = grad + wd·p` (L2, as `torch.optim.Adam`); `m = β1·m + (1−β1)·g`,
///   `v = β2·v + (1−β2)·g²`; `p -= lr/(1−β1ᵗ) · m / (sqrt(v)/sqrt(1−β2ᵗ) + ε)`.
/// - AdamW: `p *= 1 − lr·wd` first (decoupled decay), then Adam without decay in the gradient.
///
/// Parameters without a gradient are skipped entirely, as PyTorch skips parameters whose
/// `grad` is None (frozen ones get no weight decay either).
public final class Optimizer: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case sgd(momentum: Float, nesterov: Bool)
        case adam(beta1: Float, beta2: Float, epsilon: Float)
        case adamW(beta1: Float, beta2: Float, epsilon: Float)

        public static let adam = Kind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        public static let adamW = Kind.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

        /// Name as on the command line and in checkpoints: sgd, adam, adamw.
        public var name: String {
            switch self {
            case .sgd: return "sgd"
            case .adam: return "adam"
            case .adamW: return "adamw"
            }
        }
    }

    /// Parameters sharing a weight decay and a learning-rate multiplier.
    public struct Group: Sendable {
        public var parameters: [String]
        public var weightDecay: Float
        public var learningRateScale: Float

        public init(parameters: [String], weightDecay: Float, learningRateScale: Float = 1) {
            self.parameters = parameters
            self.weightDecay = weightDecay
            self.learningRateScale = learningRateScale
        }
    }

    public let kind: Kind
    public let groups: [Group]
    /// Updates made so far (Adam's t).
    public private(set) var steps = 0
    /// Per-parameter state: SGD's momentum buffer, or Adam's first and second moments.
    public private(set) var state: [String: [[Float]]] = [:]

    public init(kind: Kind, groups: [Group]) {
        self.kind = kind
        self.groups = groups
    }

    /// One update of every parameter that has a gradient in `gradients`.
    public func step(parameters: ParameterStore, gradients: [String: UnsafePointer<Float>], learningRate: Float) {
        steps += 1
        for group in groups {
            let lr = learningRate * group.learningRateScale
            for name in group.parameters {
                guard let grad = gradients[name], let entry = parameters.entries[name] else { continue }
                update(name, p: entry.pointer, grad: grad, count: entry.count, lr: lr, wd: group.weightDecay)
            }
        }
    }

    private func update(
        _ name: String, p: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>, count: Int, lr: Float, wd: Float
    ) {
        switch kind {
        case .sgd(let momentum, let nesterov):
            guard momentum != 0 else {
                for i in 0..<count { p[i] -= lr * (grad[i] + wd * p[i]) }
                return
            }
            // Taken out of the dictionary so the update does not copy it.
            let saved = state.removeValue(forKey: name)
            let first = saved == nil
            var buffer = saved?[0] ?? [Float](repeating: 0, count: count)
            buffer.withUnsafeMutableBufferPointer { b in
                for i in 0..<count {
                    let g = grad[i] + wd * p[i]
                    b[i] = first ? g : momentum * b[i] + g
                    p[i] -= lr * (nesterov ? g + momentum * b[i] : b[i])
                }
            }
            state[name] = [buffer]
        case .adam(let beta1, let beta2, let eps), .adamW(let beta1, let beta2, let eps):
            let decoupled = if case .adamW = kind { true } else { false }
            var saved = state.removeValue(forKey: name) ?? []
            var m = saved.isEmpty ? [Float](repeating: 0, count: count) : saved.removeFirst()
            var v = saved.isEmpty ? [Float](repeating: 0, count: count) : saved.removeFirst()
            let t = Float(steps)
            let bias1 = 1 - pow(beta1, t), bias2 = 1 - pow(beta2, t)
            let stepSize = lr / bias1, bias2Root = bias2.squareRoot()
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    for i in 0..<count {
                        if decoupled { p[i] *= 1 - lr * wd }
                        let g = decoupled ? grad[i] : grad[i] + wd * p[i]
                        m[i] = beta1 * m[i] + (1 - beta1) * g
                        v[i] = beta2 * v[i] + (1 - beta2) * g * g
                        p[i] -= stepSize * m[i] / (v[i].squareRoot() / bias2Root + eps)
                    }
                }
            }
            state[name] = [m, v]
        }
    }

    /// Restores state saved from an optimizer of the same kind.
    public func restore(steps: Int, state: [String: [[Float]]]) {
        self.steps = steps
        self.state = state
    }
}

#if canImport(Glibc)
    import Glibc
#endif
