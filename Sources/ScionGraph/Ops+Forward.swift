/// Schemas of the forward (inference) ops. Tensors are NCHW; weights follow PyTorch's layouts.
extension OpRegistry {
    static let forwardSchemas: [OpSchema] = [
        conv2d, convTranspose2d, batchNorm, instanceNorm, linear,
        unary(.relu), leakyRelu, unary(.sigmoid), unary(.tanh),
        binary(.add), binary(.mul), concat,
        pool(.maxPool2d), pool(.avgPool2d), globalAvgPool, flatten, reshape, dropout, softmax, pad
    ]

    static let windowAttributes: [AttributeSpec] = [
        AttributeSpec("stride", .ints, default: .ints([1, 1]), check: Checks.ints(count: 2, min: 1)),
        AttributeSpec("padding", .ints, default: .ints([0, 0]), check: Checks.ints(count: 2, min: 0)),
        AttributeSpec("dilation", .ints, default: .ints([1, 1]), check: Checks.ints(count: 2, min: 1))
    ]

    static let conv2d = OpSchema(
        .conv2d, inputs: ["x", "weight", "bias"], minInputs: 2,
        attributes: windowAttributes + [AttributeSpec("groups", .int, default: 1, check: Checks.int(min: 1))]
    ) { c in
        let x = try c.input(0, rank: 4)
        let w = try c.input(1, rank: 4)
        let groups = c.int("groups")
        guard let cin = x.shape[1].fixedValue, let cout = w.shape[0].fixedValue,
            let wc = w.shape[1].fixedValue, let kh = w.shape[2].fixedValue, let kw = w.shape[3].fixedValue
        else { throw c.fail("channel and kernel extents must be fixed") }
        guard cin % groups == 0, cout % groups == 0, wc == cin / groups else {
            throw c.fail("weight \(w) does not fit input \(x) with groups \(groups)")
        }
        try c.expectShape(2, [cout])
        let s = c.ints("stride"), p = c.ints("padding"), d = c.ints("dilation")
        let h = try spatial(c, x.shape[2], kernel: kh, stride: s[0], padding: p[0], dilation: d[0])
        let wd = try spatial(c, x.shape[3], kernel: kw, stride: s[1], padding: p[1], dilation: d[1])
        return [TensorType(x.dtype, [x.shape[0], .fixed(cout), .fixed(h), .fixed(wd)])]
    }

    static let convTranspose2d = OpSchema(
        .convTranspose2d, inputs: ["x", "weight", "bias"], minInputs: 2,
        attributes: windowAttributes + [
            AttributeSpec("output_padding", .ints, default: .ints([0, 0]), check: Checks.ints(count: 2, min: 0)),
            AttributeSpec("groups", .int, default: 1, check: Checks.int(min: 1))
        ]
    ) { c in
        let x = try c.input(0, rank: 4)
        let w = try c.input(1, rank: 4)
        let groups = c.int("groups")
        guard let cin = x.shape[1].fixedValue, let wc = w.shape[0].fixedValue,
            let coutPerGroup = w.shape[1].fixedValue, let kh = w.shape[2].fixedValue,
            let kw = w.shape[3].fixedValue, let h = x.shape[2].fixedValue, let wd = x.shape[3].fixedValue
        else { throw c.fail("extents must be fixed") }
        guard wc == cin, cin % groups == 0 else {
            throw c.fail("weight \(w) does not fit input \(x) with groups \(groups)")
        }
        let cout = coutPerGroup * groups
        try c.expectShape(2, [cout])
        let s = c.ints("stride"), p = c.ints("padding"), d = c.ints("dilation"), op = c.ints("output_padding")
        guard op[0] < max(s[0], d[0]), op[1] < max(s[1], d[1]) else {
            throw c.fail("output_padding must be smaller than stride or dilation")
        }
        guard
            let oh = ShapeRules.convTransposeOutput(
                h, kernel: kh, stride: s[0], padding: p[0], outputPadding: op[0], dilation: d[0]),
            let ow = ShapeRules.convTransposeOutput(
                wd, kernel: kw, stride: s[1], padding: p[1], outputPadding: op[1], dilation: d[1])
        else { throw c.fail("output would be empty for input \(x)") }
        return [TensorType(x.dtype, [x.shape[0], .fixed(cout), .fixed(oh), .fixed(ow)])]
    }

    static let batchNorm = OpSchema(
        .batchNorm, inputs: ["x", "scale", "bias", "running_mean", "running_var"],
        attributes: [
            AttributeSpec("epsilon", .float, default: 1e-5, check: Checks.positive),
            AttributeSpec("momentum", .float, default: 0.1, check: Checks.probability)
        ]
    ) { c in
        let x = try c.input(0)
        guard x.rank >= 2, let ch = x.shape[1].fixedValue else { throw c.fail("x must be [N, C, ...]") }
        for i in 1...4 { try c.expectShape(i, [ch]) }
        return [x]
    }

    static let instanceNorm = OpSchema(
        .instanceNorm, inputs: ["x", "scale", "bias"], minInputs: 1,
        attributes: [AttributeSpec("epsilon", .float, default: 1e-5, check: Checks.positive)]
    ) { c in
        let x = try c.input(0, rank: 4)
        guard c.inputs.count != 2 else { throw c.fail("an affine instance_norm takes both scale and bias") }
        guard let ch = x.shape[1].fixedValue else { throw c.fail("channels must be fixed") }
        for i in 1..<c.inputs.count { try c.expectShape(i, [ch]) }
        return [x]
    }

    static let linear = OpSchema(.linear, inputs: ["x", "weight", "bias"], minInputs: 2) { c in
        let x = try c.input(0, rank: 2)
        let w = try c.input(1, rank: 2)
        guard let out = w.shape[0].fixedValue, x.shape[1] == w.shape[1] else {
            throw c.fail("weight \(w) does not fit input \(x)")
        }
        try c.expectShape(2, [out])
        return [TensorType(x.dtype, [x.shape[0], .fixed(out)])]
    }

    static func unary(_ op: OpType) -> OpSchema {
        OpSchema(op, inputs: ["x"]) { c in [c.inputs[0]] }
    }

    static let leakyRelu = OpSchema(
        .leakyRelu, inputs: ["x"],
        attributes: [AttributeSpec("slope", .float, default: 0.01, check: Checks.finite)]
    ) { c in [c.inputs[0]] }

    static func binary(_ op: OpType) -> OpSchema {
        OpSchema(op, inputs: ["a", "b"]) { c in
            guard c.inputs[0] == c.inputs[1] else {
                throw c.fail("operands must have the same type, got \(c.inputs[0]) and \(c.inputs[1])")
            }
            return [c.inputs[0]]
        }
    }

    static let concat = OpSchema(
        .concat, inputs: ["x"], minInputs: 1, variadic: true,
        attributes: [AttributeSpec("axis", .int, default: 1, check: Checks.int(min: 1))]
    ) { c in
        let first = c.inputs[0]
        let axis = c.int("axis")
        guard axis < first.rank else { throw c.fail("axis \(axis) out of range for \(first)") }
        var total = 0
        for t in c.inputs {
            guard t.rank == first.rank, t.dtype == first.dtype,
                (0..<t.rank).allSatisfy({ $0 == axis || t.shape[$0] == first.shape[$0] }),
                let extent = t.shape[axis].fixedValue
            else { throw c.fail("inputs differ outside axis \(axis): \(first) and \(t)") }
            total += extent
        }
        var shape = first.shape
        shape[axis] = .fixed(total)
        return [TensorType(first.dtype, shape)]
    }

    static func pool(_ op: OpType) -> OpSchema {
        var attributes = [
            AttributeSpec("kernel", .ints, check: Checks.ints(count: 2, min: 1)),
            AttributeSpec(
                "stride", .ints, default: .ints([]),
                check: { v in
                    guard case .ints(let s) = v, s.isEmpty || (s.count == 2 && s.allSatisfy { $0 >= 1 }) else {
                        return "expected [] (same as kernel) or 2 integers at least 1"
                    }
                    return nil
                }),
            AttributeSpec("padding", .ints, default: .ints([0, 0]), check: Checks.ints(count: 2, min: 0)),
            AttributeSpec("ceil_mode", .bool, default: false)
        ]
        if op == .avgPool2d {
            attributes.append(AttributeSpec("count_include_pad", .bool, default: true))
        } else {
            attributes.append(
                AttributeSpec("dilation", .ints, default: .ints([1, 1]), check: Checks.ints(count: 2, min: 1)))
        }
        return OpSchema(op, inputs: ["x"], attributes: attributes) { c in
            let x = try c.input(0, rank: 4)
            let k = c.ints("kernel"), p = c.ints("padding"), s = c.view.windowStride, d = c.view.windowDilation
            guard p[0] * 2 <= k[0], p[1] * 2 <= k[1] else {
                throw c.fail("padding must be at most half the kernel")
            }
            let ceil = c.bool("ceil_mode")
            let h = try spatial(c, x.shape[2], kernel: k[0], stride: s[0], padding: p[0], dilation: d[0], ceil: ceil)
            let w = try spatial(c, x.shape[3], kernel: k[1], stride: s[1], padding: p[1], dilation: d[1], ceil: ceil)
            return [TensorType(x.dtype, [x.shape[0], x.shape[1], .fixed(h), .fixed(w)])]
        }
    }

    static let globalAvgPool = OpSchema(.globalAvgPool, inputs: ["x"]) { c in
        let x = try c.input(0, rank: 4)
        return [TensorType(x.dtype, [x.shape[0], x.shape[1], 1, 1])]
    }

    static let flatten = OpSchema(.flatten, inputs: ["x"]) { c in
        let x = try c.input(0)
        guard x.rank >= 2 else { throw c.fail("flatten needs rank at least 2, got \(x)") }
        let rest = x.shape.dropFirst().compactMap(\.fixedValue)
        guard rest.count == x.rank - 1, let n = ShapeRules.elementCount(rest) else {
            throw c.fail("only the first dimension may be the batch")
        }
        return [TensorType(x.dtype, [x.shape[0], .fixed(n)])]
    }

    /// `shape` is the new shape of one sample; the leading batch dimension is kept.
    static let reshape = OpSchema(
        .reshape, inputs: ["x"],
        attributes: [
            AttributeSpec(
                "shape", .ints,
                check: { v in
                    guard case .ints(let s) = v, !s.isEmpty, s.allSatisfy({ $0 >= 1 }) else {
                        return "expected the per-sample shape as positive integers"
                    }
                    return nil
                })
        ]
    ) { c in
        let x = try c.input(0)
        let target = c.ints("shape")
        let rest = x.shape.dropFirst().compactMap(\.fixedValue)
        guard x.rank >= 1, rest.count == x.rank - 1,
            ShapeRules.elementCount(rest) == ShapeRules.elementCount(target)
        else { throw c.fail("cannot reshape \(x) to [N, \(target.map(String.init).joined(separator: ", "))]") }
        return [TensorType(x.dtype, [x.shape[0]] + target.map { .fixed($0) })]
    }

    static let dropout = OpSchema(
        .dropout, inputs: ["x"],
        attributes: [AttributeSpec("p", .float, default: 0.5, check: Checks.probability)]
    ) { c in [c.inputs[0]] }

    static let softmax = OpSchema(
        .softmax, inputs: ["x"],
        attributes: [AttributeSpec("axis", .int, default: 1, check: Checks.int(min: 1))]
    ) { c in
        let x = try c.input(0)
        guard c.int("axis") < x.rank else { throw c.fail("axis out of range for \(x)") }
        return [x]
    }

    /// Output extent along one spatial axis, or a shape error naming the node.
    static func spatial(
        _ c: ShapeContext, _ dim: Dim, kernel: Int, stride: Int, padding: Int, dilation: Int, ceil: Bool = false
    ) throws -> Int {
        guard let size = dim.fixedValue else { throw c.fail("spatial extents must be fixed") }
        guard
            let out = ShapeRules.convOutput(
                size, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceil),
            out > 0
        else {
            throw c.fail(
                "a \(kernel)-wide window (dilation \(dilation), padding \(padding)) does not fit an extent of \(size)")
        }
        return out
    }
}
