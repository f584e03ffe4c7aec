import ScionGraph

extension Model {
    /// This model with `step` appended to its lineage, the step's `result` set to this model's
    /// content hash: call it on the model the step produced, once its graph and weights are final.
    public func recording(_ step: LineageStep) throws -> Model {
        var step = step
        step.result = try ContentHash.of(self)
        var recorded = self
        recorded.provenance = provenance.appending(step)
        return recorded
    }

    /// Whether this model's lineage is its own history (`Provenance.check(contentHash:)`).
    public func lineageCheck() throws -> LineageCheck {
        provenance.check(contentHash: try ContentHash.of(self))
    }

    /// The (self-declared) sanitized claim the server takes: `Provenance.claimsSanitized(given:)`.
    public func sanitizedByLineage() throws -> Bool {
        provenance.claimsSanitized(given: try lineageCheck())
    }
}
