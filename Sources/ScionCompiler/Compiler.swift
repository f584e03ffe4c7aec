import ScionGraph

/// Runs passes over a model and records what each did.
///
/// ```swift
/// let result = try Compiler.compile(model)           // every standard pass
/// let plain = try Compiler.compile(model, passes: []) // verification only
/// ```
public enum Compiler {
    /// The standard inference pipeline, in order.
    public static var standardPasses: [any CompilerPass] {
        [
            DeadNodeEliminationPass(), InferenceSimplificationPass(), BatchNormFoldingPass(), ConstantFoldingPass(),
            EpilogueFusionPass(), InPlacePass()
        ]
    }

    /// What one pass did.
    public struct PassRecord: Sendable, Codable, Equatable {
        public let name: String
        public let summary: String
        public let rewrites: Int
        public let nodesAfter: Int
    }

    /// A compiled unit and the record of how it was made.
    public struct Result: Sendable {
        public let unit: CompilationUnit
        public let nodesBefore: Int
        public let passes: [PassRecord]

        /// The same record with the parameter data dropped, for holders that keep their own
        /// copy of the weights (an executor's parameter store).
        public func droppingParameterData() -> Result {
            var stripped = unit
            stripped.parameters = [:]
            return Result(unit: stripped, nodesBefore: nodesBefore, passes: passes)
        }

        /// Node counts of the compiled graph by op.
        public var opCounts: [String: Int] {
            Dictionary(unit.graph.nodes.map { ($0.op.rawValue, 1) }, uniquingKeysWith: +)
        }

        /// Human-readable descriptions of the fused nodes, e.g. `fused_conv2d+residual+leaky_relu`.
        public var fusedOps: [String: Int] {
            var counts: [String: Int] = [:]
            for node in unit.graph.nodes where node.op == .fusedConv2d || node.op == .fusedLinear || node.op == .affine
            {
                var parts = [node.op.rawValue]
                if node.view.input("residual") != nil { parts.append("residual") }
                if node.view.activation != .none { parts.append(node.view.activation.rawValue) }
                counts[parts.joined(separator: "+"), default: 0] += 1
            }
            return counts
        }
    }

    /// Verifies `model`, then runs `passes` in order, verifying after each one.
    public static func compile(_ model: Model, passes: [any CompilerPass] = standardPasses) throws -> Result {
        var unit = CompilationUnit(model)
        try unit.graph.verify()
        let before = unit.graph.nodes.count
        var records: [PassRecord] = []
        for pass in passes {
            let rewrites = try pass.run(&unit)
            try unit.graph.verify()
            records.append(
                PassRecord(
                    name: pass.name, summary: pass.summary, rewrites: rewrites, nodesAfter: unit.graph.nodes.count))
        }
        return Result(unit: unit, nodesBefore: before, passes: records)
    }
}
