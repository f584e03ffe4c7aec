/// Layer helpers: each declares its parameters (named as PyTorch would) and adds its node.
extension GraphBuilder {
    public mutating func conv2d(
        _ x: Value, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
        groups: Int = 1, bias: Bool = true, name: String
    ) -> Value {
        let shape = [out, x.channels / max(groups, 1), kernel, kernel]
        return scope(name) { b in
            var inputs = [x]
            inputs.append(
                b.parameter(
                    "weight", shape: shape, role: .weight,
                    initializer: b.defaults.initializer(b.defaults.convWeight, shape: shape)))
            if bias {
                inputs.append(
                    b.parameter(
                        "bias", shape: [out], role: .bias,
                        initializer: b.defaults.initializer(b.defaults.convBias, weightShape: shape)))
            }
            let attributes: [String: AttributeValue] = [
                "stride": .ints([stride, stride]), "padding": .ints([padding, padding]),
                "dilation": .ints([dilation, dilation]), "groups": .int(groups)
            ]
            return b.withParentScope { $0.apply1(.conv2d, inputs, attributes: attributes, name: name) }
        }
    }

    /// A transposed convolution. PyTorch gives these its default initialisation even in networks
    /// that re-initialise their `Conv2d` layers, because `ConvTranspose2d` is not a `Conv2d`.
    public mutating func convTranspose2d(
        _ x: Value, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
        bias: Bool = true, name: String
    ) -> Value {
        let shape = [x.channels, out, kernel, kernel]
        return scope(name) { b in
            var inputs = [x]
            inputs.append(
                b.parameter(
                    "weight", shape: shape, role: .weight, initializer: .pytorchDefault(weightShape: shape)))
            if bias {
                inputs.append(
                    b.parameter(
                        "bias", shape: [out], role: .bias, initializer: .pytorchDefault(weightShape: shape)))
            }
            let attributes: [String: AttributeValue] = [
                "stride": .ints([stride, stride]), "padding": .ints([padding, padding]),
                "output_padding": .ints([outputPadding, outputPadding])
            ]
            return b.withParentScope { $0.apply1(.convTranspose2d, inputs, attributes: attributes, name: name) }
        }
    }

    /// BatchNorm with weight 1, bias 0, running mean 0 and running variance 1.
    public mutating func batchNorm(
        _ x: Value, momentum: Double = 0.1, epsilon: Double = 1e-5, name: String
    ) -> Value {
        let c = x.channels
        return scope(name) { b in
            let inputs = [
                x,
                b.parameter("weight", shape: [c], role: .weight, initializer: .ones),
                b.parameter("bias", shape: [c], role: .bias, initializer: .zeros),
                b.parameter("running_mean", shape: [c], role: .runningMean, initializer: .zeros),
                b.parameter("running_var", shape: [c], role: .runningVar, initializer: .ones)
            ]
            let attributes: [String: AttributeValue] = ["epsilon": .float(epsilon), "momentum": .float(momentum)]
            return b.withParentScope { $0.apply1(.batchNorm, inputs, attributes: attributes, name: name) }
        }
    }

    /// InstanceNorm over each sample and channel; affine adds a per-channel scale and shift.
    public mutating func instanceNorm(_ x: Value, affine: Bool = false, epsilon: Double = 1e-5, name: String)
        -> Value
    {
        let c = x.channels
        return scope(name) { b in
            var inputs = [x]
            if affine {
                inputs.append(b.parameter("weight", shape: [c], role: .weight, initializer: .ones))
                inputs.append(b.parameter("bias", shape: [c], role: .bias, initializer: .zeros))
            }
            return b.withParentScope {
                $0.apply1(.instanceNorm, inputs, attributes: ["epsilon": .float(epsilon)], name: name)
            }
        }
    }

    public mutating func linear(_ x: Value, out: Int, bias: Bool = true, name: String) -> Value {
        let inFeatures = x.type.shape.count == 2 ? x.type.shape[1].fixedValue ?? 0 : 0
        let shape = [out, inFeatures]
        return scope(name) { b in
            var inputs = [x]
            inputs.append(
                b.parameter(
                    "weight", shape: shape, role: .weight,
                    initializer: b.defaults.initializer(b.defaults.linearWeight, shape: shape)))
            if bias {
                inputs.append(
                    b.parameter(
                        "bias", shape: [out], role: .bias,
                        initializer: b.defaults.initializer(b.defaults.linearBias, weightShape: shape)))
            }
            return b.withParentScope { $0.apply1(.linear, inputs, name: name) }
        }
    }

    public mutating func relu(_ x: Value, name: String? = nil) -> Value { apply1(.relu, [x], name: name) }
    public mutating func sigmoid(_ x: Value, name: String? = nil) -> Value { apply1(.sigmoid, [x], name: name) }
    public mutating func tanh(_ x: Value, name: String? = nil) -> Value { apply1(.tanh, [x], name: name) }

    public mutating func leakyRelu(_ x: Value, slope: Double, name: String? = nil) -> Value {
        apply1(.leakyRelu, [x], attributes: ["slope": .float(slope)], name: name)
    }

    public mutating func add(_ a: Value, _ b: Value, name: String? = nil) -> Value {
        apply1(.add, [a, b], name: name)
    }

    public mutating func mul(_ a: Value, _ b: Value, name: String? = nil) -> Value {
        apply1(.mul, [a, b], name: name)
    }

    public mutating func concat(_ xs: [Value], axis: Int = 1, name: String? = nil) -> Value {
        apply1(.concat, xs, attributes: ["axis": .int(axis)], name: name)
    }

    public mutating func maxPool2d(
        _ x: Value, kernel: Int, stride: Int? = nil, padding: Int = 0, name: String? = nil
    ) -> Value {
        let s = stride ?? kernel
        return apply1(
            .maxPool2d, [x],
            attributes: [
                "kernel": .ints([kernel, kernel]), "stride": .ints([s, s]), "padding": .ints([padding, padding])
            ],
            name: name)
    }

    public mutating func avgPool2d(
        _ x: Value, kernel: Int, stride: Int? = nil, padding: Int = 0, name: String? = nil
    ) -> Value {
        let s = stride ?? kernel
        return apply1(
            .avgPool2d, [x],
            attributes: [
                "kernel": .ints([kernel, kernel]), "stride": .ints([s, s]), "padding": .ints([padding, padding])
            ],
            name: name)
    }

    public mutating func globalAvgPool(_ x: Value, name: String? = nil) -> Value {
        apply1(.globalAvgPool, [x], name: name)
    }

    public mutating func flatten(_ x: Value, name: String? = nil) -> Value { apply1(.flatten, [x], name: name) }

    public mutating func reshape(_ x: Value, to sampleShape: [Int], name: String? = nil) -> Value {
        apply1(.reshape, [x], attributes: ["shape": .ints(sampleShape)], name: name)
    }

    public mutating func dropout(_ x: Value, p: Double, name: String? = nil) -> Value {
        apply1(.dropout, [x], attributes: ["p": .float(p)], name: name)
    }

    public mutating func softmax(_ x: Value, axis: Int = 1, name: String? = nil) -> Value {
        apply1(.softmax, [x], attributes: ["axis": .int(axis)], name: name)
    }
}
