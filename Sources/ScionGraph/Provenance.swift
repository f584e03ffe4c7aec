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

    /// The self-declared sanitized claim, given the lineage's `check`: a new head was grafted and
    /// the lineage is not broken. An unchecked lineage (written before format 1.1) keeps its claim;
    /// the server warns about it. Only a signature makes the claim more than self-declared.
    public func claimsSanitized(given check: LineageCheck) -> Bool {
        if case .broken = check { return false }
        return headReplaced
    }

    /// The same provenance with `step` appended.
    public func appending(_ step: LineageStep) -> Provenance {
        Provenance(lineage: lineage + [step])
    }

    /// Whether the lineage is the history of the model whose content hash is `contentHash`: each
    /// step after the first continues from the previous step's result (its first parent), and the
    /// last result is the model itself. A lineage copied from another file, steps edited or
    /// dropped, or weights changed after the last step all break the chain. (Without a signature
    /// anyone can still write a consistent chain; this catches copies and edits, not forgers.)
    public func check(contentHash: String) -> LineageCheck {
        guard let last = lineage.last else { return .unrecorded("the file has no lineage") }
        guard lineage.allSatisfy({ $0.result != nil }) else {
            return .unrecorded("its steps do not record their results (written before format 1.1)")
        }
        for (i, step) in lineage.enumerated().dropFirst() {
            guard step.parents.first == lineage[i - 1].result else {
                return .broken(
                    "step \(i + 1) (\(step.operation)) does not continue from step \(i) (\(lineage[i - 1].operation))")
            }
        }
        guard last.result == contentHash else {
            return .broken(
                "the model is not what its last step (\(last.operation)) produced: weights or graph changed since")
        }
        return .consistent
    }
}

/// What `Provenance.check(contentHash:)` found.
public enum LineageCheck: Equatable, Sendable, CustomStringConvertible {
    case consistent
    /// The lineage cannot be checked (an older file, or none).
    case unrecorded(String)
    /// The lineage is not this model's history.
    case broken(String)

    public var description: String {
        switch self {
        case .consistent: "consistent"
        case .unrecorded(let why): "unchecked: \(why)"
        case .broken(let why): "broken: \(why)"
        }
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
    /// Content hashes (`sha256:...`) of the models this step read; the first is the model it
    /// continued (the previous step's result), others are inputs from elsewhere (a grafted head).
    public var parents: [String]
    /// Content hash of the model this step produced (nil in files written before format 1.1).
    public var result: String?
    /// Free-form facts: cut point, seed, data fingerprint, metrics.
    public var details: [String: JSONValue]

    public init(
        operation: String, parents: [String] = [], details: [String: JSONValue] = [:],
        time: String = ScionVersion.timestamp(), result: String? = nil
    ) {
        self.operation = operation
        self.time = time
        self.parents = parents
        self.details = details
        self.result = result
    }
}
