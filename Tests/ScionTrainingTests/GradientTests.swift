import ScionGraph
import ScionTraining
import Testing

/// Every differentiable op's backward rule against finite differences.
@Suite struct GradientTests {
    let check = GradientCheck()

    /// Values in ±[0.1, 1]: away from the ReLU kink at 0.
    static let awayFromZero: @Sendable (Int) -> Float = { i in
        let v = Float((i * 7919) % 97) / 97 * 0.9 + 0.1
        return i % 3 == 0 ? -v : v
    }

    @Test func convolutions() throws {
        try check.check("conv", inputShape: [3, 6, 5]) { b, x in
            b.output(b.conv2d(x, out: 4, kernel: 3, stride: 2, padding: 1, name: "c"))
        }
        try check.check("conv-dilated-grouped", inputShape: [4, 7, 7]) { b, x in
            b.output(b.conv2d(x, out: 6, kernel: 3, padding: 2, dilation: 2, groups: 2, name: "c"))
        }
        try check.check("conv-1x1", inputShape: [3, 4, 4]) { b, x in
            b.output(b.conv2d(x, out: 5, kernel: 1, bias: false, name: "c"))
        }
        try check.check("conv-transpose", inputShape: [4, 3, 3]) { b, x in
            b.output(b.convTranspose2d(x, out: 3, kernel: 4, stride: 2, padding: 1, name: "t"))
        }
        try check.check("conv-transpose-k3", inputShape: [3, 4, 4]) { b, x in
            b.output(b.convTranspose2d(x, out: 2, kernel: 3, stride: 1, padding: 1, name: "t"))
        }
    }

    @Test func normalizations() throws {
        try check.check("batchnorm-train", inputShape: [3, 4, 4]) { b, x in b.output(b.batchNorm(x, name: "bn")) }
        try check.check("batchnorm-eval", inputShape: [3, 4, 4], trainMode: []) { b, x in
            b.output(b.batchNorm(x, name: "bn"))
        }
        try check.check("instancenorm", inputShape: [3, 4, 4]) { b, x in
            b.output(b.instanceNorm(x, affine: true, name: "in"))
        }
        try check.check("instancenorm-plain", inputShape: [2, 3, 5]) { b, x in
            b.output(b.mul(b.instanceNorm(x, name: "in"), x))
        }
    }

    @Test func linearAndActivations() throws {
        try check.check("linear", inputShape: [7]) { b, x in b.output(b.linear(x, out: 5, name: "fc")) }
        try check.check("relu", inputShape: [3, 4], inputValues: Self.awayFromZero) { b, x in b.output(b.relu(x)) }
        try check.check("leaky", inputShape: [3, 4], inputValues: Self.awayFromZero) { b, x in
            b.output(b.leakyRelu(x, slope: 0.1))
        }
        try check.check("sigmoid", inputShape: [3, 4]) { b, x in b.output(b.sigmoid(x)) }
        try check.check("tanh", inputShape: [3, 4]) { b, x in b.output(b.tanh(x)) }
        try check.check("softmax", inputShape: [6]) { b, x in b.output(b.softmax(x)) }
    }

    @Test func structuralOps() throws {
        try check.check("add-mul-concat", inputShape: [2, 3, 3]) { b, x in
            let y = b.conv2d(x, out: 2, kernel: 1, name: "c")
            b.output(b.concat([b.add(x, y), b.mul(x, y)], axis: 1))
        }
        try check.check("flatten-reshape", inputShape: [2, 3, 2]) { b, x in
            b.output(b.linear(b.flatten(b.reshape(x, to: [3, 2, 2])), out: 3, name: "fc"))
        }
        try check.check("pad-and-crop", inputShape: [2, 4, 5]) { b, x in
            b.output(b.pad(b.conv2d(x, out: 3, kernel: 3, name: "c"), [1, -1, 2, 0], value: 0.25))
        }
        try check.check("dropout-train", inputShape: [4, 5]) { b, x in
            b.output(b.dropout(b.linear(b.flatten(x), out: 8, name: "fc"), p: 0.5))
        }
        try check.check("dropout-eval", inputShape: [4, 5], trainMode: []) { b, x in b.output(b.dropout(x, p: 0.5)) }
    }

    @Test func pooling() throws {
        // Distinct values far apart relative to the step, so the maximum never switches.
        let spread: (Int) -> Float = { i in Float((i * 37) % 200) / 100 - 1 }
        try check.check("maxpool", inputShape: [2, 6, 6], inputValues: spread) { b, x in
            b.output(b.maxPool2d(x, kernel: 3, stride: 2, padding: 1))
        }
        try check.check("avgpool", inputShape: [2, 5, 5]) { b, x in
            b.output(b.avgPool2d(x, kernel: 3, stride: 2, padding: 1))
        }
        try check.check("gap", inputShape: [3, 4, 4]) { b, x in b.output(b.globalAvgPool(x)) }
    }

    @Test func losses() throws {
        let soft = Tensor(shape: [2, 5], values: [0.1, 0.6, 0.1, 0.1, 0.1, 0, 0, 0.3, 0.7, 0])
        try check.check(
            "cross-entropy", inputShape: [5],
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("y"), weight: 1)],
            extraInputs: ["y": soft]
        ) { b, x in b.output(b.linear(x, out: 5, name: "fc"), as: "logits") }
        // One row trained away from class 3 (unlikelihood), one towards class 1.
        let unlearn = Tensor(shape: [2, 5], values: [0, 0, 0, -1, 0, 0, 1, 0, 0, 0])
        try check.check(
            "cross-entropy with unlikelihood", inputShape: [5],
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("y"), weight: 1)],
            extraInputs: ["y": unlearn]
        ) { b, x in b.output(b.linear(x, out: 5, name: "fc"), as: "logits") }
        try check.check(
            "l1", inputShape: [6], inputValues: Self.awayFromZero,
            losses: [LossTerm("l1", .l1, prediction: "y", target: .input("t"))],
            extraInputs: ["t": Tensor(shape: [2, 6], repeating: 0)]
        ) { b, x in b.output(b.mul(x, x), as: "y") }
        try check.check(
            "stage-1 loss", inputShape: [3, 6, 6],
            losses: [
                LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("y")),
                LossTerm("mse", .mse, prediction: "rec", target: .value("x"), weight: 10),
                LossTerm("tv", .totalVariation, prediction: "rec", target: .none, weight: 1)
            ], extraInputs: ["y": Tensor(shape: [2, 4], values: [1, 0, 0, 0, 0, 0, 1, 0])]
        ) { b, x in
            let h = b.conv2d(x, out: 4, kernel: 3, stride: 2, padding: 1, name: "c")
            b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 4, name: "fc"), as: "logits")
            b.output(b.sigmoid(b.convTranspose2d(h, out: 3, kernel: 4, stride: 2, padding: 1, name: "d")), as: "rec")
        }
    }
}
