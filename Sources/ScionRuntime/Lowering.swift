import ScionCompiler
import ScionGraph
import ScionKernels

/// Turns each node of a compiled graph into a kernel step. Kernels are built (and weights packed
/// from the parameter store) here, before memory planning, because their scratch sizes are
/// planned with everything else; the steps are bound to arena pointers afterwards.
struct Lowering {
    typealias Pending = (Resolver) -> any ExecutionStep

    private(set) var pending: [Pending] = []
    /// Scratch floats each node needs (all threads together).
    private(set) var workspaceFloats: [Int] = []
    private(set) var fallbackNodes: [String] = []

    let unit: CompilationUnit
    let store: ParameterStore
    let maxBatch: Int
    let threads: Int
    let precision: Precision
    private var index = 0

    init(unit: CompilationUnit, store: ParameterStore, maxBatch: Int, threads: Int, precision: Precision = .fp32)
        throws
    {
        self.unit = unit
        self.store = store
        self.maxBatch = maxBatch
        self.threads = threads
        self.precision = precision
        for (i, node) in unit.graph.nodes.enumerated() {
            index = i
            let (step, workspace) = try lower(node)
            pending.append(step)
            workspaceFloats.append(workspace)
        }
    }

    var graph: Graph { unit.graph }
    var nodeIndex: Int { index }

    func type(_ value: String) -> TensorType { graph.values[value]! }
    func shape(_ value: String) -> [Int] { type(value).resolvedShape(batch: maxBatch) }
    func parameter(_ name: String) -> UnsafeMutablePointer<Float> { store.pointer(name)! }
    /// The parameter feeding input `name` of `node`, or nil when that optional input is absent.
    func parameter(_ node: OpView, _ name: String) -> UnsafeMutablePointer<Float>? {
        node.input(name).flatMap { store.pointer($0) }
    }

    /// The kernel form of `activation` (`slope` is read only for leaky ReLU).
    func kernelActivation(_ activation: Activation, _ node: OpView) -> KernelActivation {
        switch activation {
        case .none: return .none
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(Float(node.float("slope")))
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        }
    }

    /// The epilogue activation of a fused op.
    func activation(_ node: OpView) -> KernelActivation { kernelActivation(node.activation, node) }

    private mutating func lower(_ plain: Node) throws -> (Pending, Int) {
        let node = plain.view
        if node.schema.trainingOnly, let lowered = try lowerTraining(node) {
            return lowered
        }
        return lowerLayer(node) ?? lowerElementwise(node) ?? fallback(plain)
    }

    /// Convolutions, linear layers and normalisations, their weights packed here.
    private func lowerLayer(_ node: OpView) -> (Pending, Int)? {
        let plain = node.node, x = plain.inputs.first ?? "", y = plain.output
        let i = index, threads = threads
        switch node.op {
        case .conv2d, .fusedConv2d:
            let residual = node.input("residual")
            let g = Geometry.conv(node, shape(x), shape(y), type(plain.inputs[1]))
            let w = parameter(plain.inputs[1]), b = parameter(node, "bias")
            let kernel = Conv2D(geometry: g, weight: w, bias: b, activation: activation(node), precision: precision)
            return (
                { r in
                    ConvStep(
                        kernel, x: r[x], y: r[y], residual: residual.map { r[$0] }, workspace: r.workspace(i),
                        weight: w, bias: b)
                },
                kernel.workspacePerThread * threads
            )
        case .convTranspose2d:
            let g = Geometry.conv(node, shape(x), shape(y), type(plain.inputs[1]))
            let w = parameter(plain.inputs[1]), b = parameter(node, "bias")
            let kernel = ConvTranspose2D(geometry: g, weight: w, bias: b, activation: .none)
            return (
                { r in ConvTransposeStep(kernel, x: r[x], y: r[y], workspace: r.workspace(i)!, weight: w, bias: b) },
                kernel.workspacePerThread * threads
            )
        case .linear, .fusedLinear:
            let residual = node.input("residual")
            let xs = shape(x), ys = shape(y)
            let w = parameter(plain.inputs[1]), b = parameter(node, "bias")
            let kernel = Linear(inFeatures: xs[1], outFeatures: ys[1], weight: w, bias: b, activation: activation(node))
            return (
                { r in LinearStep(kernel, x: r[x], y: r[y], residual: residual.map { r[$0] }, weight: w, bias: b) }, 0
            )
        case .batchNorm, .affine:
            let p = plain.inputs.dropFirst().map(parameter)
            let source: AffineStep.Source =
                node.op == .affine
                ? .scaleShift(p[0], p[1])
                : .batchNorm(scale: p[0], bias: p[1], mean: p[2], variance: p[3], epsilon: Float(node.float("epsilon")))
            let channels = shape(plain.inputs[1])[0]
            let rows = type(x).elementsPerSample / channels
            let act = activation(node)
            return (
                { r in
                    AffineStep(
                        x: r[x], y: r[y], source: source, channels: channels, rowsPerSample: rows, activation: act)
                }, 0
            )
        case .instanceNorm:
            let xs = shape(x)
            let scale = parameter(node, "scale"), shift = parameter(node, "bias")
            let eps = Float(node.float("epsilon"))
            return (
                { r in
                    InstanceNormStep(
                        x: r[x], y: r[y], plane: xs[2] * xs[3], channels: xs[1], epsilon: eps, scale: scale,
                        shift: shift)
                }, 0
            )
        default:
            return nil
        }
    }

    /// Activations, arithmetic, pooling and the ops that move values (nil: no fast kernel).
    private mutating func lowerElementwise(_ node: OpView) -> (Pending, Int)? {
        let plain = node.node, x = plain.inputs.first ?? "", y = plain.output
        switch node.op {
        case .relu, .leakyRelu, .sigmoid, .tanh:
            return elementwise(.activation(kernelActivation(Activation(op: node.op) ?? .none, node)), plain)
        case .add: return elementwise(.add, plain)
        case .mul: return elementwise(.mul, plain)
        case .dropout: return elementwise(.copy, plain)
        case .maxPool2d, .avgPool2d:
            let g = Geometry.pool(node, shape(x), shape(y))
            let average = node.op == .avgPool2d, includePad = average && node.bool("count_include_pad")
            return ({ r in PoolStep(x: r[x], y: r[y], geometry: g, average: average, countIncludePad: includePad) }, 0)
        case .globalAvgPool:
            let xs = shape(x)
            return ({ r in GlobalPoolStep(x: r[x], y: r[y], plane: xs[2] * xs[3], channels: xs[1]) }, 0)
        case .flatten, .reshape:
            return relayout(plain)
        case .softmax where lastPhysicalAxis(node.int("axis"), of: type(x)):
            let width = shape(x)[1]
            let rows = type(x).elementsPerSample / width
            return ({ r in SoftmaxStep(x: r[x], y: r[y], rowsPerSample: rows, width: width) }, 0)
        case .concat where lastPhysicalAxis(node.int("axis"), of: type(x)):
            let widths = plain.inputs.map { shape($0)[1] }
            let rows = type(x).elementsPerSample / widths[0]
            let inputs = plain.inputs
            return (
                { r in ConcatStep(inputs: zip(inputs, widths).map { (r[$0], $1) }, y: r[y], rowsPerSample: rows) }, 0
            )
        case .pad:
            return lowerPad(node) ?? fallback(plain)
        default:
            return nil
        }
    }

    /// The reference implementation, for ops without a fast kernel.
    mutating func fallback(_ node: Node) -> (Pending, Int) {
        fallbackNodes.append(node.name)
        let inputs = node.inputs, types = node.inputs.map(type), outTypes = node.outputs.map(type),
            outputs = node.outputs
        return (
            { r in
                FallbackStep(
                    node: node, inputs: zip(inputs.map { r[$0] }, types).map { ($0, $1) },
                    outputs: zip(outputs.map { r[$0] }, outTypes).map { ($0, $1) })
            }, 0
        )
    }

    /// True when logical `axis` is the innermost axis in memory (channels of a channels-last
    /// value, or the last axis of a rank-2 value).
    private func lastPhysicalAxis(_ axis: Int, of t: TensorType) -> Bool {
        axis == 1 && (t.rank == 2 || PhysicalLayout.isChannelsLast(t))
    }

    func elementwise(_ kind: ElementwiseStep.Kind, _ node: Node) -> (Pending, Int) {
        let a = node.inputs[0], b = node.inputs.count > 1 ? node.inputs[1] : nil, y = node.output
        let count = type(y).elementsPerSample
        return ({ r in ElementwiseStep(kind, a: r[a], b: b.map { r[$0] }, y: r[y], elementsPerSample: count) }, 0)
    }

    /// Flatten and reshape keep the logical element order; only the physical layouts differ.
    private mutating func relayout(_ node: Node) -> (Pending, Int) {
        let x = node.inputs[0], y = node.output
        let xt = type(x), yt = type(y)
        let xs = shape(x), ys = shape(y)
        let xLast = PhysicalLayout.isChannelsLast(xt), yLast = PhysicalLayout.isChannelsLast(yt)
        let spatial = { (s: [Int]) in s.count == 4 ? s[2] * s[3] : 1 }
        let direction: RelayoutStep.Direction
        let channels: Int, plane: Int
        if xLast, !yLast, spatial(xs) > 1 {
            (direction, channels, plane) = (.nhwcToNCHW, xs[1], spatial(xs))
        } else if !xLast, yLast, spatial(ys) > 1 {
            (direction, channels, plane) = (.nchwToNHWC, ys[1], spatial(ys))
        } else if xLast == yLast || spatial(xs) * spatial(ys) == 1 {
            (direction, channels, plane) = (.copy, xt.elementsPerSample, 1)
        } else {
            return fallback(node)
        }
        return ({ r in RelayoutStep(x: r[x], y: r[y], direction: direction, channels: channels, plane: plane) }, 0)
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's elements, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
