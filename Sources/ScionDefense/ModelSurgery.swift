import ScionFormat
import ScionGraph

/// Cutting and grafting whole models: the graph surgery of `Graph+Surgery.swift` plus the
/// parameters, metadata and a lineage step for each operation (parent content hashes, the cut
/// point, what was grafted).
public enum ModelSurgery {
    /// Splits `model` at cut point `cut` (a cut point's name, or a value name). The head keeps
    /// `headOutputs` (default: every output after the cut).
    public static func cut(_ model: Model, at cut: String, headOutputs: [String]? = nil) throws -> (
        stem: Model, head: Model
    ) {
        let value = model.graph.cutPoint(named: cut)?.value ?? cut
        let parent = try ContentHash.of(model)
        let details: [String: JSONValue] = ["cut": .string(cut), "value": .string(value)]
        let stem = try restrict(model, to: try model.graph.stem(upTo: value)).recording(
            LineageStep(
                operation: LineageStep.cut, parents: [parent], details: details.merging(["part": "stem"]) { a, _ in a })
        )
        let head = try restrict(model, to: try model.graph.head(after: value, outputs: headOutputs)).recording(
            LineageStep(
                operation: LineageStep.cut, parents: [parent], details: details.merging(["part": "head"]) { a, _ in a })
        )
        return (stem, head)
    }

    /// `stem` followed by `head`, their seam checked; the lineage is the stem's plus a graft step.
    /// A head untouched since it was cut off a model is recorded as `reattached`: grafting it
    /// back does not replace the head, so the result does not count as sanitized.
    public static func graft(stem: Model, head: Model, details: [String: JSONValue] = [:]) throws -> Model {
        let graph = try Graph.graft(stem: stem.graph, head: head.graph, name: stem.graph.name)
        var metadata = stem.metadata
        if !head.metadata.labels.isEmpty { metadata.labels = head.metadata.labels }
        let step = LineageStep(
            operation: LineageStep.graft, parents: [try ContentHash.of(stem), try ContentHash.of(head)],
            details: details.merging([
                "seam": .string(stem.graph.outputs[0]), "reattached": .bool(isUntouchedCutHead(head))
            ]) { a, _ in a })
        let parameters = stem.parameters.merging(head.parameters) { a, _ in a }
        return try Model(graph: graph, parameters: parameters, metadata: metadata, provenance: stem.provenance)
            .recording(step)
    }

    /// True when `head`'s last lineage step is the cut that made it a head.
    static func isUntouchedCutHead(_ head: Model) -> Bool {
        guard let last = head.provenance.lineage.last else { return false }
        return last.operation == LineageStep.cut && last.details["part"] == .string("head")
    }

    /// `model` with `graph` and only the parameters it declares.
    static func restrict(_ model: Model, to graph: Graph) -> Model {
        Model(
            graph: graph, parameters: model.parameters.filter { name, _ in graph.parameter(named: name) != nil },
            metadata: model.metadata, provenance: model.provenance)
    }
}
