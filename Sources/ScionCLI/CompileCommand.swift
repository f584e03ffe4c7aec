import ArgumentParser
import ScionCompiler
import ScionFormat
import ScionRuntime

/// `scion compile`: what the compiler does to a model, and the memory it plans.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Run the compiler passes on a model and report rewrites, fused ops and the planned arena.")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(help: "Largest batch to plan memory for.")
    var batch: Int = 64

    @Flag(help: "Print JSON (arena_bytes holds naive, lower_bound and planned).")
    var json = false

    struct Report: Encodable {
        struct Arena: Encodable {
            let naive: Int
            let lower_bound: Int
            let planned: Int
        }
        let model: String
        let batch: Int
        let nodes_before: Int
        let nodes_after: Int
        let passes: [Compiler.PassRecord]
        let fused_ops: [String: Int]
        let ops_after: [String: Int]
        let fallback_nodes: [String]
        let arena_bytes: Arena
    }

    func run() throws {
        guard batch >= 1 else { throw UsageError("--batch must be at least 1") }
        let executor = try Executor(model: try ModelFile.read(model), options: .init(maxBatch: batch, threads: 1))
        let c = executor.compiled, plan = executor.memoryPlan
        let report = Report(
            model: model, batch: batch, nodes_before: c.nodesBefore, nodes_after: c.unit.graph.nodes.count,
            passes: c.passes,
            fused_ops: c.fusedOps, ops_after: c.opCounts, fallback_nodes: executor.fallbackNodes,
            arena_bytes: .init(naive: plan.naiveBytes, lower_bound: plan.lowerBoundBytes, planned: plan.arenaBytes))
        if json { return try printJSON(report) }
        print(
            "\(model): \(report.nodes_before) nodes → \(report.nodes_after) after \(c.passes.count) passes (batch \(batch))"
        )
        for p in c.passes {
            print(
                "  \(p.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(p.rewrites).leftPad(4)) rewrites, \(p.nodesAfter) nodes  (\(p.summary))"
            )
        }
        print("fused ops: " + c.fusedOps.keys.sorted().map { "\($0)×\(c.fusedOps[$0]!)" }.joined(separator: ", "))
        if !executor.fallbackNodes.isEmpty {
            print("reference fallback: " + executor.fallbackNodes.joined(separator: ", "))
        }
        print(
            "arena: naive \(plan.naiveBytes.mebibytes), lower bound \(plan.lowerBoundBytes.mebibytes), planned \(plan.arenaBytes.mebibytes)"
        )
    }
}

extension Int {
    /// Bytes as `12.3 MiB`.
    var mebibytes: String { String(format: "%.2f MiB", Double(self) / 1_048_576) }
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

import Foundation
