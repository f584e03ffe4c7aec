/// Schemas of the ops that appear only in training graphs: train-mode forward ops, gradients
/// and losses. `Autodiff` (in ScionTraining) emits them; the executor runs them like any op.
extension OpType {
    public static let batchNormTrain: OpType = "batch_norm_train"
    public static let dropoutTrain: OpType = "dropout_train"
    public static let conv2dGradInput: OpType = "conv2d_grad_input"
    public static let conv2dGradWeight: OpType = "conv2d_grad_weight"
    /// `conv2d_grad_weight` and the bias gradient (the channel sums of dy) in one pass over dy;
    /// made by the gradient fusion pass.
    public static let conv2dGradWeightBias: OpType = "conv2d_grad_weight_bias"
    public static let linearGradInput: OpType = "linear_grad_input"
    public static let linearGradWeight: OpType = "linear_grad_weight"
    public static let channelSum: OpType = "channel_sum"
    public static let batchNormTrainGrad: OpType = "batch_norm_train_grad"
    public static let batchNormEvalGrad: OpType = "batch_norm_eval_grad"
    public static let instanceNormGrad: OpType = "instance_norm_grad"
    public static let reluGrad: OpType = "relu_grad"
    public static let leakyReluGrad: OpType = "leaky_relu_grad"
    public static let sigmoidGrad: OpType = "sigmoid_grad"
    public static let tanhGrad: OpType = "tanh_grad"
    public static let maxPool2dGrad: OpType = "max_pool2d_grad"
    public static let avgPool2dGrad: OpType = "avg_pool2d_grad"
    public static let globalAvgPoolGrad: OpType = "global_avg_pool_grad"
    public static let softmaxGrad: OpType = "softmax_grad"
    public static let slice: OpType = "slice"
    public static let crossEntropy: OpType = "cross_entropy"
    public static let crossEntropyGrad: OpType = "cross_entropy_grad"
    public static let mseLoss: OpType = "mse_loss"
    public static let mseLossGrad: OpType = "mse_loss_grad"
    public static let l1Loss: OpType = "l1_loss"
    public static let l1LossGrad: OpType = "l1_loss_grad"
    public static let tvLoss: OpType = "tv_loss"
    public static let tvLossGrad: OpType = "tv_loss_grad"
    public static let weightedSum: OpType = "weighted_sum"
}

extension OpRegistry {
    static let scalar = TensorType(.float32, [])
    static let inputShape = AttributeSpec(
        "input_shape", .ints,
        check: { v in
            guard case .ints(let s) = v, !s.isEmpty, s.allSatisfy({ $0 >= 1 }) else {
                return "expected the per-sample input shape"
            }
            return nil
        })
    /// Gradient ops scale their result by `scale` (the loss term's weight).
    static let weightGradientAttributes: [AttributeSpec] =
        windowAttributes + [
            AttributeSpec("groups", .int, default: 1, check: Checks.int(min: 1)),
            AttributeSpec("kernel", .ints, check: Checks.ints(count: 2, min: 1))
        ]

    /// `[O, C/groups, kh, kw]` from x `[N, C, H, W]` and dy `[N, O, H', W']`.
    static func weightGradientType(_ c: ShapeContext) throws -> TensorType {
        let x = try c.input(0, rank: 4), dy = try c.input(1, rank: 4)
        let k = c.ints("kernel"), g = c.int("groups")
        guard let cin = x.shape[1].fixedValue, let cout = dy.shape[1].fixedValue, cin % g == 0 else {
            throw c.fail("channels must be fixed and divisible by groups")
        }
        return TensorType(.float32, [.fixed(cout), .fixed(cin / g), .fixed(k[0]), .fixed(k[1])])
    }

    static let batchNormGradAttributes: [AttributeSpec] = [
        AttributeSpec(
            "activation", .string, default: "none",
            check: { v in
                guard case .string(let s) = v, ["none", "relu", "leaky_relu"].contains(s) else {
                    return "expected none, relu or leaky_relu"
                }
                return nil
            }),
        AttributeSpec("slope", .float, default: 0.01, check: Checks.finite),
        AttributeSpec("has_residual", .bool, default: false)
    ]
    static let gradScale = AttributeSpec("scale", .float, default: 1.0, check: Checks.finite)

    static let trainingSchemas: [OpSchema] = [
        OpSchema(
            .batchNormTrain, inputs: ["x", "scale", "bias", "running_mean", "running_var"], outputs: 5,
            attributes: batchNorm.attributes + epilogueAttributes.prefix(2), trainingOnly: true
        ) { c in
            let y = try batchNorm.infer(c)[0]
            let channel = TensorType(.float32, [y.shape[1]])
            return [y, channel, channel, channel, channel]
        },
        OpSchema(.dropoutTrain, inputs: ["x"], outputs: 2, attributes: dropout.attributes, trainingOnly: true) { c in
            [c.inputs[0], c.inputs[0]]
        },
        OpSchema(
            .conv2dGradInput, inputs: ["dy", "weight"],
            attributes: windowAttributes + [
                AttributeSpec("groups", .int, default: 1, check: Checks.int(min: 1)), inputShape
            ], trainingOnly: true
        ) { c in
            [TensorType(.float32, [c.inputs[0].shape[0]] + c.ints("input_shape").map { .fixed($0) })]
        },
        OpSchema(.conv2dGradWeight, inputs: ["x", "dy"], attributes: weightGradientAttributes, trainingOnly: true) {
            c in
            [try weightGradientType(c)]
        },
        OpSchema(
            .conv2dGradWeightBias, inputs: ["x", "dy"], outputs: 2, attributes: weightGradientAttributes,
            trainingOnly: true
        ) { c in
            let weight = try weightGradientType(c)
            return [weight, TensorType(.float32, [weight.shape[0]])]
        },
        OpSchema(.linearGradInput, inputs: ["dy", "weight"], trainingOnly: true) { c in
            let dy = try c.input(0, rank: 2), w = try c.input(1, rank: 2)
            return [TensorType(.float32, [dy.shape[0], w.shape[1]])]
        },
        OpSchema(.linearGradWeight, inputs: ["x", "dy"], trainingOnly: true) { c in
            let x = try c.input(0, rank: 2), dy = try c.input(1, rank: 2)
            return [TensorType(.float32, [dy.shape[1], x.shape[1]])]
        },
        OpSchema(.channelSum, inputs: ["x"], trainingOnly: true) { c in
            let x = try c.input(0)
            guard x.rank >= 2 else { throw c.fail("x must be [N, C, ...]") }
            return [TensorType(.float32, [x.shape[1]])]
        },
        // With `activation` (relu or leaky_relu) the incoming gradient is first masked by the
        // activation that followed the forward BatchNorm, recomputed from x and `bias`; with
        // `has_residual` the result is added to `residual` (the last input). The gradient fusion
        // pass sets both; Autodiff emits the plain form.
        OpSchema(
            .batchNormTrainGrad, inputs: ["dy", "x", "scale", "saved_mean", "saved_invstd", "bias", "residual"],
            minInputs: 5,
            outputs: 3, attributes: batchNormGradAttributes, trainingOnly: true,
            inputLayout: { v in
                ["dy", "x", "scale", "saved_mean", "saved_invstd"] + (v.activation != .none ? ["bias"] : [])
                    + (v.bool("has_residual") ? ["residual"] : [])
            }
        ) { c in
            let channel = TensorType(.float32, [c.inputs[0].shape[1]])
            let masked = c.string("activation") != "none", residual = c.bool("has_residual")
            guard c.inputs.count == 5 + (masked ? 1 : 0) + (residual ? 1 : 0) else {
                throw c.fail("expected 5 inputs, plus bias with an activation and residual with has_residual")
            }
            if masked, c.inputs[5] != c.inputs[2] { throw c.fail("bias must match scale, got \(c.inputs[5])") }
            if residual, c.inputs[c.inputs.count - 1] != c.inputs[0] {
                throw c.fail("residual must match dy, got \(c.inputs[c.inputs.count - 1])")
            }
            return [c.inputs[0], channel, channel]
        },
        OpSchema(
            .batchNormEvalGrad, inputs: ["dy", "scale", "running_var"],
            attributes: [AttributeSpec("epsilon", .float, default: 1e-5, check: Checks.positive)], trainingOnly: true
        ) { c in
            [c.inputs[0]]
        },
        OpSchema(
            .instanceNormGrad, inputs: ["dy", "x", "scale"], minInputs: 2, outputs: 3,
            attributes: instanceNorm.attributes, trainingOnly: true
        ) { c in
            let channel = TensorType(.float32, [c.inputs[0].shape[1]])
            return [c.inputs[0], channel, channel]
        },
        activationGrad(.reluGrad), activationGrad(.sigmoidGrad), activationGrad(.tanhGrad),
        OpSchema(.leakyReluGrad, inputs: ["dy", "y"], attributes: leakyRelu.attributes, trainingOnly: true) { c in
            [c.inputs[0]]
        },
        OpSchema(.maxPool2dGrad, inputs: ["dy", "x"], attributes: pool(.maxPool2d).attributes, trainingOnly: true) {
            c in [c.inputs[1]]
        },
        OpSchema(
            .avgPool2dGrad, inputs: ["dy"], attributes: pool(.avgPool2d).attributes + [inputShape], trainingOnly: true
        ) { c in
            [TensorType(.float32, [c.inputs[0].shape[0]] + c.ints("input_shape").map { .fixed($0) })]
        },
        OpSchema(.globalAvgPoolGrad, inputs: ["dy"], attributes: [inputShape], trainingOnly: true) { c in
            [TensorType(.float32, [c.inputs[0].shape[0]] + c.ints("input_shape").map { .fixed($0) })]
        },
        OpSchema(.softmaxGrad, inputs: ["dy", "y"], attributes: softmax.attributes, trainingOnly: true) { c in
            [c.inputs[0]]
        },
        OpSchema(
            .slice, inputs: ["x"],
            attributes: [
                AttributeSpec("axis", .int, default: 1, check: Checks.int(min: 1)),
                AttributeSpec("start", .int, check: Checks.int(min: 0)),
                AttributeSpec("length", .int, check: Checks.int(min: 1))
            ], trainingOnly: true
        ) { c in
            var shape = c.inputs[0].shape
            let axis = c.int("axis")
            guard axis < shape.count, let extent = shape[axis].fixedValue, c.int("start") + c.int("length") <= extent
            else {
                throw c.fail("slice out of range of \(c.inputs[0])")
            }
            shape[axis] = .fixed(c.int("length"))
            return [TensorType(c.inputs[0].dtype, shape)]
        },
        loss(.crossEntropy, pairs: true), lossGrad(.crossEntropyGrad, pairs: true),
        loss(.mseLoss, pairs: true), lossGrad(.mseLossGrad, pairs: true),
        loss(.l1Loss, pairs: true), lossGrad(.l1LossGrad, pairs: true),
        loss(.tvLoss, pairs: false), lossGrad(.tvLossGrad, pairs: false),
        OpSchema(
            .weightedSum, inputs: ["terms"], minInputs: 1, variadic: true,
            attributes: [AttributeSpec("weights", .floats)], trainingOnly: true
        ) { c in
            guard c.floats("weights").count == c.inputs.count, c.inputs.allSatisfy({ $0 == scalar }) else {
                throw c.fail("needs one weight per scalar term")
            }
            return [scalar]
        }
    ]

    static func activationGrad(_ op: OpType) -> OpSchema {
        OpSchema(op, inputs: ["dy", "y"], trainingOnly: true) { c in
            guard c.inputs[0] == c.inputs[1] else { throw c.fail("dy and y differ in type") }
            return [c.inputs[0]]
        }
    }

    /// A loss: the mean over its elements (over the batch for cross-entropy), a scalar.
    static func loss(_ op: OpType, pairs: Bool) -> OpSchema {
        OpSchema(op, inputs: pairs ? ["prediction", "target"] : ["prediction"], trainingOnly: true) { c in
            if pairs, c.inputs[0] != c.inputs[1] {
                throw c.fail("prediction \(c.inputs[0]) and target \(c.inputs[1]) differ")
            }
            if op == .crossEntropy, c.inputs[0].rank != 2 { throw c.fail("cross-entropy takes logits [N, classes]") }
            if op == .tvLoss, c.inputs[0].rank != 4 { throw c.fail("total variation takes images [N, C, H, W]") }
            return [scalar]
        }
    }

    /// The gradient of a loss, times `scale`, with respect to its prediction.
    static func lossGrad(_ op: OpType, pairs: Bool) -> OpSchema {
        OpSchema(
            op, inputs: pairs ? ["prediction", "target"] : ["prediction"], attributes: [gradScale], trainingOnly: true
        ) { c in
            [c.inputs[0]]
        }
    }
}
