/// The lineage of a model: every operation that produced it, with the content hashes of its
/// parents. The defense appends a step per stage; the server reads it to refuse models whose
/// head was never replaced.
public struct Provenance: Sendable, Equatable, Codable {
    public var lineage: [LineageStep]

    public init(lineage: [LineageStep] = []) {
        self.lineage = lineage
    }

    /// True once a new head was grafted onto a stem, the step that removes a trapped backdoor.
    /// Grafting back a head that was only cut off (`reattached`) does not count.
    public var headReplaced: Bool {
        lineage.contains { $0.operation == LineageStep.graft && $0.details["reattached"] != .bool(true) }
    }

    /// The same provenance with `step` appended.
    public func appending(_ step: LineageStep) -> Provenance {
        Provenance(lineage: lineage + [step])
    }
}

/// One operation in a model's lineage.
public struct LineageStep: Sendable, Equatable, Codable {
    /// Operation names Scion writes.
    public static let initialize = "init"
    public static let train = "train"
    public static let trap = "trap"
    public static let cut = "cut"
    public static let graft = "graft"
    public static let replace = "replace"
    public static let recover = "recover"
    public static let fineTune = "finetune"
    public static let finePrune = "fineprune"
    public static let importWeights = "import"

    public var operation: String
    /// ISO 8601 UTC.
    public var time: String
    /// Content hashes (`sha256:...`) of the models this step read.
    public var parents: [String]
    /// Free-form facts: cut point, seed, data fingerprint, metrics.
    public var details: [String: JSONValue]

    public init(
        operation: String, parents: [String] = [], details: [String: JSONValue] = [:],
        time: String = ScionVersion.timestamp()
    ) {
        self.operation = operation
        self.time = time
        self.parents = parents
        self.details = details
    }
}
