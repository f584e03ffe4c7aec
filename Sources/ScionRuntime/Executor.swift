import CBLAS
import Foundation
import ScionCompiler
import ScionGraph
import ScionKernels

/// Runs a compiled model: the graph after the compiler's passes, lowered to kernel steps over
/// one statically planned, 64-byte aligned arena. After construction a run allocates nothing on
/// the heap (through `run(batch:input:)`), for any batch up to `maxBatch`.
///
/// ```swift
/// let executor = try Executor(model: model, options: .init(maxBatch: 64, threads: 2))
/// let logits = try executor.run(["image": images])["logits"]
/// ```
/// An executor is not reentrant: one run at a time (its arena holds the activations).
public final class Executor: @unchecked Sendable {
    public struct Options: Sendable {
        public var maxBatch: Int
        public var threads: Int
        public var passes: [any CompilerPass]
        /// A pool to share with other executors (which then never run at the same time);
        /// nil gives this executor its own pool of `threads`.
        public var pool: ThreadPool?
        /// The convolutions' arithmetic (`Precision`; BF16 only where the CPU has it).
        public var precision: Precision

        public init(
            maxBatch: Int = 64, threads: Int? = nil, passes: [any CompilerPass] = Compiler.standardPasses,
            pool: ThreadPool? = nil, precision: Precision = .fp32
        ) {
            self.maxBatch = max(1, maxBatch)
            self.threads = pool?.threads ?? max(1, threads ?? CPUBudget.threads)
            self.passes = passes
            self.pool = pool
            self.precision = precision
        }
    }

    /// How the graph was compiled; its unit carries no parameter data (see `parameters`).
    public let compiled: Compiler.Result
    public let memoryPlan: MemoryPlan
    public let maxBatch: Int
    /// The parameters the kernels read; update in place, then call `parametersDidChange()`.
    public let parameters: ParameterStore
    /// Nodes run by the slow reference fallback (no fast kernel for their op or attributes).
    public private(set) var fallbackNodes: [String] = []
    /// Called after each step of a run with its index (the node's in `graph.nodes`), on the
    /// thread that runs: lets a caller start on values already final (`producingStep(of:)`)
    /// while the rest of the graph runs. An error it throws ends the run.
    public var afterStep: ((Int) throws -> Void)?

    /// The compiled graph (its inputs and outputs are the model's).
    public var graph: Graph { compiled.unit.graph }
    let pool: ThreadPool
    private let arena: UnsafeMutableRawPointer
    private var steps: [any ExecutionStep] = []
    private var parameterDependents: [any ParameterDependent] = []
    private var seeded: [any SeededStep] = []
    private var pointers: [String: FloatPointer] = [:]
    /// Graph inputs and outputs, resolved once so runs need no lookups that allocate.
    private var boundary: [String: BoundaryValue] = [:]

    public init(model: Model, options: Options = Options()) throws {
        do {
            let result = try Compiler.compile(model, passes: options.passes)
            parameters = try ParameterStore(graph: result.unit.graph, parameters: result.unit.parameters)
            // The store now holds the weights; a second copy in the compiler's record, alive
            // while the kernels pack theirs, would raise peak memory by the model's size.
            compiled = result.droppingParameterData()
        }
        maxBatch = options.maxBatch
        pool = options.pool ?? ThreadPool(threads: options.threads)
        // GEMMs run inside Scion's pool, one per thread; OpenBLAS must not add threads of its own.
        openblas_set_num_threads(1)
        let unit = compiled.unit
        var assignment = try BufferAssignment(graph: unit.graph, aliases: unit.aliases, maxBatch: maxBatch)
        let lowering = try Lowering(
            unit: unit, store: parameters, maxBatch: maxBatch, threads: options.threads, precision: options.precision)
        for (i, floats) in lowering.workspaceFloats.enumerated() { assignment.addWorkspace(node: i, floats: floats) }
        memoryPlan = MemoryPlanner.plan(assignment.requests)
        arena = .allocate(byteCount: max(memoryPlan.arenaBytes, 64), alignment: MemoryPlanner.alignment)
        let base = arena
        let plan = memoryPlan
        for (value, group) in assignment.groupOf {
            pointers[value] = (base + plan.offsets[group]!).assumingMemoryBound(to: Float.self)
        }
        let store = parameters
        let resolve = Resolver(values: pointers, parameters: { store.pointer($0) }) { node in
            assignment.workspaceID(node: node).map { (base + plan.offsets[$0]!).assumingMemoryBound(to: Float.self) }
        }
        steps = lowering.pending.map { $0(resolve) }
        parameterDependents = steps.compactMap { $0 as? ParameterDependent }
        seeded = steps.compactMap { $0 as? SeededStep }
        for name in graph.inputs + graph.outputs {
            guard let type = graph.values[name], let pointer = pointers[name] else { continue }
            let shape = type.resolvedShape(batch: 1)
            boundary[name] = BoundaryValue(
                pointer: pointer, channelsLast: PhysicalLayout.isChannelsLast(type),
                channels: shape.count > 1 ? shape[1] : 1,
                plane: shape.count == 4 ? shape[2] * shape[3] : 1,
                perSample: type.isBatched ? type.elementsPerSample : type.elementCount(batch: 1),
                batched: type.isBatched)
        }
        fallbackNodes = lowering.fallbackNodes
    }

    deinit { arena.deallocate() }

    /// Runs the graph on named NCHW inputs and returns every output in NCHW. `seed` keys the
    /// run's random ops (dropout masks).
    public func run(_ inputs: [String: Tensor], seed: UInt64 = 0) throws -> [String: Tensor] {
        let batch = try InputCheck.batch(of: inputs, for: graph)
        guard batch <= maxBatch else { throw RuntimeError.batchTooLarge(requested: batch, planned: maxBatch) }
        for name in graph.inputs {
            let floats = inputs[name]!.floats
            floats.withUnsafeBufferPointer { loadInput(name, from: $0.baseAddress!, batch: batch) }
        }
        try runSteps(batch: batch, seed: seed)
        var out: [String: Tensor] = [:]
        for name in graph.outputs {
            let type = graph.values[name]!
            let shape = type.isBatched ? type.resolvedShape(batch: batch) : type.resolvedShape(batch: 1)
            var values = [Float](repeating: 0, count: shape.reduce(1, *))
            values.withUnsafeMutableBufferPointer { copyOutput(name, to: $0.baseAddress!, batch: batch) }
            out[name] = Tensor(shape: shape, values: values)
        }
        return out
    }

    /// The allocation-free path for single-input graphs: reads `batch` NCHW samples from
    /// `input` and runs. Read results with `copyOutput(_:to:batch:)`.
    public func run(batch: Int, input: UnsafePointer<Float>) throws {
        guard graph.inputs.count == 1 else { throw RuntimeError.missingInput(graph.inputs.dropFirst().first ?? "") }
        try run(batch: batch, inputs: [input])
    }

    /// The allocation-free path: `inputs` are NCHW data for the graph's inputs, in order.
    public func run(batch: Int, inputs: [UnsafePointer<Float>], seed: UInt64 = 0) throws {
        guard batch >= 1, batch <= maxBatch else {
            throw RuntimeError.batchTooLarge(requested: batch, planned: maxBatch)
        }
        guard inputs.count == graph.inputs.count else { throw RuntimeError.missingInput(graph.inputs.last ?? "") }
        for (name, source) in zip(graph.inputs, inputs) { loadInput(name, from: source, batch: batch) }
        try runSteps(batch: batch, seed: seed)
    }

    /// Copies output `name` of the last run, in NCHW order, to `destination`.
    public func copyOutput(_ name: String, to destination: UnsafeMutablePointer<Float>, batch: Int) {
        guard let io = boundary[name] else { return }
        if io.channelsLast {
            Layout.nhwcToNCHW(io.pointer, destination, n: batch, c: io.channels, plane: io.plane)
        } else {
            destination.update(from: io.pointer, count: io.batched ? batch * io.perSample : io.perSample)
        }
    }

    /// Where output `name` of the last run lives (valid until the next run). Unbatched outputs
    /// (losses, gradients) are in their logical layout; batched four-dimensional ones are NHWC.
    public func outputPointer(_ name: String) -> UnsafePointer<Float>? {
        boundary[name].map { UnsafePointer($0.pointer) }
    }

    /// The step that writes value `name`; after it the value is final for the run (nil for
    /// graph inputs and parameters).
    public func producingStep(of name: String) -> Int? {
        graph.nodes.firstIndex { $0.outputs.contains(name) }
    }

    /// Recomputes the data kernels derive from parameters (packed weights, folded scales) after
    /// `parameters` changed.
    public func parametersDidChange() {
        for step in parameterDependents { step.refresh() }
    }

    private func loadInput(_ name: String, from source: UnsafePointer<Float>, batch: Int) {
        guard let io = boundary[name] else { return }
        if io.channelsLast {
            Layout.nchwToNHWC(source, io.pointer, n: batch, c: io.channels, plane: io.plane)
        } else {
            io.pointer.update(from: source, count: io.batched ? batch * io.perSample : io.perSample)
        }
    }

    /// Seconds spent in each node over `iterations` runs of the last loaded input, slowest
    /// first: where the time goes.
    public func profile(batch: Int, iterations: Int) -> [(node: String, op: String, seconds: Double)] {
        var totals = [Double](repeating: 0, count: steps.count)
        for _ in 0..<iterations {
            for (i, step) in steps.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                step.run(batch: batch, pool: pool)
                totals[i] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
        }
        return zip(graph.nodes, totals).map { ($0.name, $0.op.rawValue, $1 / Double(iterations)) }.sorted {
            $0.seconds > $1.seconds
        }
    }

    private func runSteps(batch: Int, seed: UInt64 = 0) throws {
        for step in seeded { step.seed = seed }
        guard let afterStep else {
            for step in steps { step.run(batch: batch, pool: pool) }
            return
        }
        for (i, step) in steps.enumerated() {
            step.run(batch: batch, pool: pool)
            try afterStep(i)
        }
    }
}

/// A graph input or output: where it lives and how to convert it to and from NCHW.
struct BoundaryValue {
    let pointer: FloatPointer
    let channelsLast: Bool
    let channels: Int
    let plane: Int
    let perSample: Int
    let batched: Bool
}

/// Resolves value names (arena or parameter store) and workspace requests to pointers while
/// steps are bound.
struct Resolver {
    let values: [String: FloatPointer]
    let parameters: (String) -> FloatPointer?
    let workspace: (Int) -> FloatPointer?

    subscript(_ value: String) -> FloatPointer { values[value] ?? parameters(value)! }
}

/// A step with random draws keyed by the run's seed.
protocol SeededStep: AnyObject {
    var seed: UInt64 { get set }
}

extension FallbackStep: SeededStep {}
