import ScionDefense
import ScionFormat
import ScionGraph
import ScionZoo
import Testing

/// A lineage is checked against the model it comes with: copies, edits and later weight
/// changes break the chain of recorded results.
@Suite struct LineageIntegrityTests {
    func model(seed: UInt64) throws -> Model {
        let net = try Zoo.classifier(.cnnSmall, classes: 4, input: [1, 28, 28])
        return try Model(
            graph: net.graph, parameters: net.initialParameters(seed: seed),
            metadata: ModelMetadata(modelName: "m", labels: [], input: InputSpec(channels: 1, height: 28, width: 28))
        ).recording(LineageStep(operation: LineageStep.initialize))
    }

    /// init -> cut -> graft of a new head: each step continues the previous one's result.
    func sanitized() throws -> Model {
        let (stem, _) = try ModelSurgery.cut(try model(seed: 1), at: "stem3")
        let (_, freshHead) = try ModelSurgery.cut(try model(seed: 2), at: "stem3")
        var head = freshHead
        head.provenance = Provenance()
        return try ModelSurgery.graft(stem: stem, head: head)
    }

    @Test func surgeryKeepsTheChain() throws {
        let m = try sanitized()
        #expect(m.provenance.lineage.map(\.operation) == ["init", "cut", "graft"])
        let check = try m.lineageCheck(), claimed = try m.sanitizedByLineage()
        #expect(check == .consistent && claimed)
    }

    @Test func aCopiedLineageIsBroken() throws {
        var other = try model(seed: 7)
        other.provenance = try sanitized().provenance
        #expect("\(try other.lineageCheck())".hasPrefix("broken: the model is not what its last step (graft) produced"))
        let claimed = try other.sanitizedByLineage()
        #expect(!claimed)
    }

    @Test func editedWeightsBreakTheChain() throws {
        var m = try sanitized()
        let weight = try #require(m.graph.parameters.first { $0.role == .weight })
        var values = try #require(m.parameters[weight.name]).floats
        values[0] += 1
        m.parameters[weight.name] = Tensor(shape: weight.shape, values: values)
        #expect("\(try m.lineageCheck())".hasPrefix("broken: the model is not what"))
    }

    @Test func aDroppedStepBreaksTheChain() throws {
        var m = try sanitized()
        m.provenance.lineage.remove(at: 1)
        #expect(try m.lineageCheck() == .broken("step 2 (graft) does not continue from step 1 (init)"))
    }

    @Test func stepsWithoutResultsCannotBeChecked() throws {
        var m = try sanitized()
        m.provenance = Provenance(lineage: [LineageStep(operation: LineageStep.graft)])
        #expect(m.provenance.headReplaced)
        let check = try m.lineageCheck(), claimed = try m.sanitizedByLineage()
        #expect("\(check)".hasPrefix("unchecked:") && claimed, "an old file keeps its claim, as the server takes it")
        #expect(Provenance().check(contentHash: "sha256:00") == .unrecorded("the file has no lineage"))
    }
}
