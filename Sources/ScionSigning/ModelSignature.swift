import Crypto
import Foundation

/// A signature over a model file in the format of OpenSSF model signing (PyPI `model-signing`
/// 1.1.1, key mode): a Sigstore bundle holding a DSSE envelope whose payload is an in-toto
/// statement over the file's SHA-256. It covers every byte of the file (graph, weights,
/// metadata, lineage), so none can change after signing. `model_signing verify key` accepts the
/// bundles Scion writes and Scion accepts the ones it writes (docs/notes/model-signing-1.1.1.md).
public enum ModelSignature {
    static let mediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    static let payloadType = "application/vnd.in-toto+json"
    static let statementType = "https://in-toto.io/Statement/v1"
    static let predicateType = "https://model_signing/signature/v1.0"

    /// Where Scion looks for a model's signature: beside it, `model.h5.sig`.
    public static func defaultPath(for model: String) -> String { model + ".sig" }

    /// The bundle signing the file at `model` with `key`.
    public static func sign(_ model: String, key: P256.Signing.PrivateKey) throws -> Data {
        let digest = try fileDigest(model)
        let payload = try statement(name: URL(fileURLWithPath: model).lastPathComponent, fileDigest: digest)
        let signature = try key.signature(for: preAuthenticationEncoding(payload)).derRepresentation
        let bundle = Bundle(
            mediaType: mediaType,
            verificationMaterial: .init(publicKey: .init(hint: SigningKeys.hint(key.publicKey)), tlogEntries: []),
            dsseEnvelope: .init(
                payload: payload.base64EncodedString(), payloadType: payloadType,
                signatures: [.init(sig: signature.base64EncodedString(), keyid: "")]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(bundle)
    }

    /// Checks `bundle` against the file at `model` and each of `trusted`; returns the hint (key
    /// fingerprint) of the key that signed it, or throws naming what failed.
    public static func verify(_ model: String, bundle data: Data, trusted: [P256.Signing.PublicKey]) throws -> String {
        guard let bundle = try? JSONDecoder().decode(Bundle.self, from: data) else {
            throw SignatureError.malformed(
                "not a Sigstore bundle (JSON with mediaType, verificationMaterial, dsseEnvelope)")
        }
        guard bundle.mediaType == mediaType else { throw SignatureError.malformed("media type \(bundle.mediaType)") }
        guard bundle.dsseEnvelope.payloadType == payloadType,
            let payload = Data(base64Encoded: bundle.dsseEnvelope.payload),
            let first = bundle.dsseEnvelope.signatures.first, let raw = Data(base64Encoded: first.sig),
            let signature = try? P256.Signing.ECDSASignature(derRepresentation: raw)
        else { throw SignatureError.malformed("the DSSE envelope has no in-toto payload or no DER signature") }
        let message = preAuthenticationEncoding(payload)
        guard let signer = trusted.first(where: { $0.isValidSignature(signature, for: message) }) else {
            throw SignatureError.untrusted("the signature is not valid for any trusted key")
        }
        try checkStatement(payload, against: try fileDigest(model))
        return SigningKeys.hint(signer)
    }

    /// The statement must name exactly this file's SHA-256, as model_signing's one-file manifest.
    static func checkStatement(_ payload: Data, against digest: Data) throws {
        guard let s = try? JSONDecoder().decode(Statement.self, from: payload), s.type == statementType,
            s.predicateType == predicateType, s.subject.count == 1
        else { throw SignatureError.malformed("the payload is not a model_signing v1.0 statement") }
        let resources = s.predicate.resources
        guard s.predicate.serialization.method == "files", s.predicate.serialization.hash_type == "sha256",
            resources.count == 1, resources[0].algorithm == "sha256"
        else { throw SignatureError.malformed("only one-file SHA-256 manifests are supported") }
        guard resources[0].digest == hex(digest) else {
            throw SignatureError.mismatch(
                "the file changed since it was signed (its SHA-256 differs from the signed one)")
        }
        guard s.subject[0].digest["sha256"] == hex(Data(SHA256.hash(data: digest))) else {
            throw SignatureError.malformed("the subject digest does not match the resources")
        }
    }

    static func statement(name: String, fileDigest digest: Data) throws -> Data {
        let statement = Statement(
            type: statementType,
            subject: [.init(name: name, digest: ["sha256": hex(Data(SHA256.hash(data: digest)))])],
            predicateType: predicateType,
            predicate: .init(
                serialization: .init(
                    method: "files", hash_type: "sha256", allow_symlinks: false,
                    ignore_paths: [".git", ".gitattributes", ".github", ".gitignore"]),
                resources: [.init(name: ".", algorithm: "sha256", digest: hex(digest))]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(statement)
    }

    /// DSSE's pre-authentication encoding: what the signature is over.
    static func preAuthenticationEncoding(_ payload: Data) -> Data {
        Data("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8) + payload
    }

    static func fileDigest(_ path: String) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SignatureError.missing(path) }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Data(hasher.finalize())
    }

    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
}
