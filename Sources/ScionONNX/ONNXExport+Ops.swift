import Foundation
import ScionGraph

/// Turns each Scion node into ONNX nodes (one, but for `instance_norm` without affine
/// parameters, which ONNX requires). Attributes are read through the op's schema, so defaults
/// come from there; constants an ONNX op takes as inputs (pads, shapes, ratios) become
/// initializers named after the node.
struct NodeEmitter {
    /// The types of the graph's values.
    let values: [String: TensorType]
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var constants: [Onnx_TensorProto] = []

    mutating func emit(_ v: OpView) throws {
        switch v.op {
        case .conv2d: add(v, "Conv", window(v) + [.int("group", v.int("groups"))])
        case .convTranspose2d:
            add(
                v, "ConvTranspose",
                window(v) + [.int("group", v.int("groups")), .ints("output_padding", v.ints("output_padding"))])
        case .batchNorm:
            add(
                v, "BatchNormalization",
                [.float("epsilon", v.float("epsilon")), .float("momentum", 1 - v.float("momentum"))])
        case .instanceNorm: try instanceNorm(v)
        case .linear: add(v, "Gemm", [.int("transB", 1)])
        case .relu: add(v, "Relu")
        case .leakyRelu: add(v, "LeakyRelu", [.float("alpha", v.float("slope"))])
        case .sigmoid: add(v, "Sigmoid")
        case .tanh: add(v, "Tanh")
        case .add: add(v, "Add")
        case .mul: add(v, "Mul")
        case .concat: add(v, "Concat", [.int("axis", v.int("axis"))])
        case .maxPool2d: add(v, "MaxPool", pool(v) + [.ints("dilations", v.windowDilation)])
        case .avgPool2d:
            add(v, "AveragePool", pool(v) + [.int("count_include_pad", v.bool("count_include_pad") ? 1 : 0)])
        case .globalAvgPool: add(v, "GlobalAveragePool")
        case .flatten: add(v, "Flatten", [.int("axis", 1)])
        case .softmax: add(v, "Softmax", [.int("axis", v.int("axis"))])
        case .reshape:
            // 0 copies the input's extent: the batch passes through whatever its size.
            add(
                v, "Reshape",
                extra: [constant(v, "shape", int64s: [0] + v.ints("shape"), dims: [v.ints("shape").count + 1])])
        case .dropout:
            add(v, "Dropout", extra: [constant(v, "ratio", float: Float(v.float("p")))])
        case .pad:
            let p = v.ints("pads")  // top, left, bottom, right -> ONNX's begins then ends over N, C, H, W
            add(
                v, "Pad",
                extra: [
                    constant(v, "pads", int64s: [0, 0, p[0], p[1], 0, 0, p[2], p[3]], dims: [8]),
                    constant(v, "value", float: Float(v.float("value")))
                ], [.string("mode", "constant")])
        default:
            throw ONNXError.unsupported(node: v.name, op: v.op.rawValue, direction: "export")
        }
    }

    /// Strides, pads (ONNX: begins then ends), dilations and the kernel of a convolution.
    private func window(_ v: OpView) -> [Onnx_AttributeProto] {
        let p = v.ints("padding")
        return [
            .ints("strides", v.ints("stride")), .ints("pads", [p[0], p[1], p[0], p[1]]),
            .ints("dilations", v.ints("dilation"))
        ]
    }

    private func pool(_ v: OpView) -> [Onnx_AttributeProto] {
        let p = v.ints("padding")
        return [
            .ints("kernel_shape", v.ints("kernel")), .ints("strides", v.windowStride),
            .ints("pads", [p[0], p[1], p[0], p[1]]), .int("ceil_mode", v.bool("ceil_mode") ? 1 : 0)
        ]
    }

    /// ONNX's InstanceNormalization requires scale and bias: ones and zeros when Scion's has none.
    private mutating func instanceNorm(_ v: OpView) throws {
        var extra: [String] = []
        if v.node.inputs.count == 1 {
            guard let channels = values[v.node.inputs[0]]?.shape[1].fixedValue else {
                throw ONNXError.invalid("node '\(v.name)': the channel count of its input is unknown")
            }
            extra = [
                constant(v, "scale", floats: Array(repeating: 1, count: channels)),
                constant(v, "bias", floats: Array(repeating: 0, count: channels))
            ]
        }
        add(v, "InstanceNormalization", extra: extra, [.float("epsilon", v.float("epsilon"))])
    }

    private mutating func add(
        _ v: OpView, _ opType: String, extra: [String] = [], _ attributes: [Onnx_AttributeProto] = []
    ) {
        nodes.append(
            .with {
                $0.name = v.name
                $0.opType = opType
                $0.input = v.node.inputs + extra
                $0.output = v.node.outputs
                $0.attribute = attributes
            })
    }

    private mutating func add(_ v: OpView, _ opType: String, _ attributes: [Onnx_AttributeProto] = []) {
        add(v, opType, extra: [], attributes)
    }

    private mutating func constant(_ v: OpView, _ role: String, int64s: [Int], dims: [Int]) -> String {
        let name = "\(v.name).\(role)"
        constants.append(ONNXTensor.int64Proto(int64s, dims: dims, name: name))
        return name
    }

    private mutating func constant(_ v: OpView, _ role: String, float: Float) -> String {
        let name = "\(v.name).\(role)"
        constants.append(ONNXTensor.floatProto([float], dims: [], name: name))
        return name
    }

    private mutating func constant(_ v: OpView, _ role: String, floats: [Float]) -> String {
        let name = "\(v.name).\(role)"
        constants.append(ONNXTensor.floatProto(floats, dims: [floats.count], name: name))
        return name
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Self {
        .with {
            $0.name = name
            $0.type = .int
            $0.i = Int64(value)
        }
    }
    static func ints(_ name: String, _ values: [Int]) -> Self {
        .with {
            $0.name = name
            $0.type = .ints
            $0.ints = values.map(Int64.init)
        }
    }
    static func float(_ name: String, _ value: Double) -> Self {
        .with {
            $0.name = name
            $0.type = .float
            $0.f = Float(value)
        }
    }
    static func string(_ name: String, _ value: String) -> Self {
        .with {
            $0.name = name
            $0.type = .string
            $0.s = Data(value.utf8)
        }
    }
}
