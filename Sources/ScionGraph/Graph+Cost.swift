/// Static cost estimates.
extension Graph {
    /// Multiply-accumulates of one forward pass at batch 1, counting convolutions, transposed
    /// convolutions and linear layers (the ops that dominate the time).
    public func forwardMACs() -> Int {
        var total = 0
        for node in nodes {
            guard let x = values[node.inputs.first ?? ""], let y = values[node.output] else { continue }
            let xs = x.resolvedShape(batch: 1), ys = y.resolvedShape(batch: 1)
            switch node.op {
            case .conv2d, .convTranspose2d:
                guard let w = values[node.inputs[1]]?.shape.compactMap(\.fixedValue), w.count == 4 else { continue }
                let perPosition = w[1] * w[2] * w[3]
                total +=
                    node.op == .conv2d
                    ? ys[1] * ys[2] * ys[3] * perPosition
                    : xs[1] * xs[2] * xs[3] * perPosition
            case .linear:
                total += xs[1] * ys[1]
            default:
                continue
            }
        }
        return total
    }
}
