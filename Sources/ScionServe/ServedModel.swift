import Crypto
import Foundation
import ScionFormat
import ScionGraph
import ScionRuntime
import ScionSigning

/// A model the server answers for: its file, name and version, what its provenance says, and
/// the batch scheduler that runs it.
public final class ServedModel: Sendable {
    public let name: String
    public let version: String
    public let path: String
    public let model: Model
    public let sanitized: Bool
    /// Whether the lineage is the model's own history. A broken one is refused; an unchecked one
    /// (a file from before format 1.1) is served on its self-declared claim, with a warning.
    public let lineageCheck: LineageCheck
    public let contentHash: String
    /// The key hint (SHA-256 of the public key's PEM) of the trusted key that signed the file;
    /// nil when the server trusts no keys (sanitization is then self-declared).
    public let signer: String?
    let scheduler: BatchScheduler

    /// What `scion serve` accepts on its command line: `PATH` (named after the file) or
    /// `NAME=PATH`; `NAME:VERSION=PATH` sets the version (default "1").
    public static func parse(_ argument: String) -> (name: String, version: String, path: String) {
        guard let eq = argument.firstIndex(of: "=") else {
            return ((argument as NSString).lastPathComponent.replacingOccurrences(of: ".h5", with: ""), "1", argument)
        }
        let label = String(argument[..<eq]), path = String(argument[argument.index(after: eq)...])
        let parts = label.split(separator: ":", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "1", path)
    }

    init(name: String, version: String, path: String, settings: ServerSettings) throws {
        let model = try ModelFile.read(path)
        guard model.graph.inputs.count == 1, let input = model.graph.values[model.graph.inputs[0]], input.rank == 4,
            input.isBatched
        else {
            throw ServeError.badRequest("\(path): the server serves image models with one [N, C, H, W] input")
        }
        self.name = name
        self.version = version
        self.path = path
        self.model = model
        signer = try Self.signer(of: path, trusted: settings.trustedKeys)
        contentHash = try ContentHash.of(model)
        let check = model.provenance.check(contentHash: contentHash)
        lineageCheck = check
        sanitized = model.provenance.claimsSanitized(given: check)
        guard sanitized || settings.allowUnsanitized else {
            let lineage = model.provenance.lineage.map(\.operation).joined(separator: " -> ")
            let reason =
                model.provenance.headReplaced
                ? "its lineage claims a new head but is \(check)"
                : "its lineage (\(lineage.isEmpty ? "empty" : lineage)) shows no head replacement"
            throw ServeError.badRequest(
                "\(path) is not sanitized: \(reason); serve the model `scion defend` writes, or pass --allow-unsanitized"
            )
        }
        scheduler = try BatchScheduler(
            model: model, maxBatch: settings.maxBatch, maxDelay: settings.maxDelay, threads: settings.threads,
            name: name, precision: settings.precision)
    }

    /// With trusted keys, the key that signed the file at `path` (its signature beside it);
    /// refuses an unsigned file or a signature that fails, naming why.
    static func signer(of path: String, trusted pems: [String]) throws -> String? {
        guard !pems.isEmpty else { return nil }
        let trusted = try pems.map { pem in
            guard let key = try? P256.Signing.PublicKey(pemRepresentation: pem) else {
                throw ServeError.badRequest("a trusted key is not an ECDSA P-256 public key in PEM")
            }
            return key
        }
        let signaturePath = ModelSignature.defaultPath(for: path)
        guard let bundle = FileManager.default.contents(atPath: signaturePath) else {
            throw ServeError.badRequest("\(path) is not signed (no \(signaturePath)); sign it with scion sign")
        }
        do {
            return try ModelSignature.verify(path, bundle: bundle, trusted: trusted)
        } catch let error as SignatureError {
            throw ServeError.badRequest("\(path): \(error)")
        }
    }

    var inputName: String { model.graph.inputs[0] }
    var inputShape: [Int] { model.graph.values[inputName]!.sampleShape }

    /// A tensor as the Open Inference Protocol's metadata describes it (batch extent -1).
    struct TensorMetadata {
        let name: String
        let datatype = "FP32"
        let shape: [Int]
    }

    static let platform = "scion_h5"
    var inputMetadata: [TensorMetadata] { [TensorMetadata(name: inputName, shape: [-1] + inputShape)] }
    var outputMetadata: [TensorMetadata] {
        model.graph.outputs.map { TensorMetadata(name: $0, shape: [-1] + (model.graph.values[$0]?.sampleShape ?? [])) }
    }

    /// Model metadata as the Open Inference Protocol describes it, with the provenance in
    /// `parameters`: sanitized or not, the lineage, the reported ACC, ASR and clean-to-target rate.
    var metadata: [String: Any] {
        let tensors = { (list: [TensorMetadata]) in
            list.map { ["name": $0.name, "datatype": $0.datatype, "shape": $0.shape] as [String: Any] }
        }
        var parameters: [String: Any] = [
            "sanitized": sanitized, "lineage_check": lineageCheck.description, "signer": signer ?? NSNull(),
            "content_hash": contentHash,
            "labels": model.metadata.labels,
            "lineage": model.provenance.lineage.map(\.operation),
            "producer": "\(model.metadata.producer) \(model.metadata.producerVersion)",
            "mean": model.metadata.input.mean.map(Double.init), "std": model.metadata.input.std.map(Double.init)
        ]
        if let step = model.provenance.lineage.last(where: { $0.details["acc"] != nil }) {
            parameters["acc"] = step.details["acc"]?.numberValue
            parameters["asr"] = step.details["asr"]?.numberValue
            if let floor = step.details["clean_to_target"]?.numberValue { parameters["clean_to_target"] = floor }
            parameters["measured_by"] = step.operation
        }
        return [
            "name": name, "versions": [version], "platform": Self.platform,
            "inputs": tensors(inputMetadata), "outputs": tensors(outputMetadata), "parameters": parameters
        ]
    }

    /// The operations that made this model, oldest first.
    var lineage: String { model.provenance.lineage.map(\.operation).joined(separator: " -> ") }

    func shutdown() { scheduler.stop() }

    deinit { scheduler.stop() }
}
