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

        public init(maxBatch: Int = 64, threads: Int? = nil, passes: [any CompilerPass] = Compiler.standardPasses) {
            self.maxBatch = max(1, maxBatch)
            self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
            self.passes = passes
        }
    }

    public let compiled: Compiler.Result
    public let memoryPlan: MemoryPlan
    public let maxBatch: Int
    /// Nodes run by the slow reference fallback (no fast kernel for their op or attributes).
    public private(set) var fallbackNodes: [String] = []

    var graph: Graph { compiled.unit.graph }
    let pool: ThreadPool
    private let arena: UnsafeMutableRawPointer
    private var steps: [any ExecutionStep] = []
    private var pointers: [String: FloatPointer] = [:]

    public init(model: Model, options: Options = Options()) throws {
        compiled = try Compiler.compile(model, passes: options.passes)
        maxBatch = options.maxBatch
        pool = ThreadPool(threads: options.threads)
        // GEMMs run inside Scion's pool, one per thread; OpenBLAS must not add threads of its own.
        openblas_set_num_threads(1)
        let unit = compiled.unit
        var assignment = try BufferAssignment(graph: unit.graph, aliases: unit.aliases, maxBatch: maxBatch)
        let lowering = try Lowering(unit: unit, maxBatch: maxBatch, threads: options.threads)
        for (i, floats) in lowering.workspaceFloats.enumerated() { assignment.addWorkspace(node: i, floats: floats) }
        memoryPlan = MemoryPlanner.plan(assignment.requests)
        arena = .allocate(byteCount: max(memoryPlan.arenaBytes, 64), alignment: MemoryPlanner.alignment)
        let base = arena
        let plan = memoryPlan
        for (value, group) in assignment.groupOf {
            pointers[value] = (base + plan.offsets[group]!).assumingMemoryBound(to: Float.self)
        }
        let resolve = Resolver(values: pointers) { node in
            assignment.workspaceID(node: node).map { (base + plan.offsets[$0]!).assumingMemoryBound(to: Float.self) }
        }
        steps = lowering.pending.map { $0(resolve) }
        fallbackNodes = lowering.fallbackNodes
    }

    deinit { arena.deallocate() }

    /// Runs the graph on named NCHW inputs and returns every output in NCHW.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let batch = try InputCheck.batch(of: inputs, for: graph)
        guard batch <= maxBatch else { throw RuntimeError.batchTooLarge(requested: batch, planned: maxBatch) }
        for name in graph.inputs {
            let floats = inputs[name]!.floats
            floats.withUnsafeBufferPointer { loadInput(name, from: $0.baseAddress!, batch: batch) }
        }
        runSteps(batch: batch)
        var out: [String: Tensor] = [:]
        for name in graph.outputs {
            let type = graph.values[name]!
            let shape = type.resolvedShape(batch: batch)
            var values = [Float](repeating: 0, count: shape.reduce(1, *))
            values.withUnsafeMutableBufferPointer { copyOutput(name, to: $0.baseAddress!, batch: batch) }
            out[name] = Tensor(shape: shape, values: values)
        }
        return out
    }

    /// The allocation-free path for single-input graphs: reads `batch` NCHW samples from
    /// `input` and runs. Read results with `copyOutput(_:to:batch:)`.
    public func run(batch: Int, input: UnsafePointer<Float>) throws {
        guard batch >= 1, batch <= maxBatch else { throw RuntimeError.batchTooLarge(requested: batch, planned: maxBatch) }
        guard graph.inputs.count == 1 else { throw RuntimeError.missingInput(graph.inputs.dropFirst().first ?? "") }
        loadInput(graph.inputs[0], from: input, batch: batch)
        runSteps(batch: batch)
    }

    /// Copies output `name` of the last run, in NCHW order, to `destination`.
    public func copyOutput(_ name: String, to destination: UnsafeMutablePointer<Float>, batch: Int) {
        guard let type = graph.values[name], let source = pointers[name] else { return }
        let shape = type.resolvedShape(batch: batch)
        if PhysicalLayout.isChannelsLast(type) {
            Layout.nhwcToNCHW(source, destination, n: batch, c: shape[1], plane: shape[2] * shape[3])
        } else {
            destination.update(from: source, count: shape.reduce(1, *))
        }
    }

    private func loadInput(_ name: String, from source: UnsafePointer<Float>, batch: Int) {
        guard let type = graph.values[name], let destination = pointers[name] else { return }
        let shape = type.resolvedShape(batch: batch)
        if PhysicalLayout.isChannelsLast(type) {
            Layout.nchwToNHWC(source, destination, n: batch, c: shape[1], plane: shape[2] * shape[3])
        } else {
            destination.update(from: source, count: shape.reduce(1, *))
        }
    }

    private func runSteps(batch: Int) {
        for step in steps { step.run(batch: batch, pool: pool) }
    }
}

/// Resolves value names and workspace requests to arena pointers while steps are bound.
struct Resolver {
    let values: [String: FloatPointer]
    let workspace: (Int) -> FloatPointer?

    subscript(_ value: String) -> FloatPointer { values[value]! }
}
