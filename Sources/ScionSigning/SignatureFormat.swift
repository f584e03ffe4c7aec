/// The JSON of a Sigstore bundle in model_signing's key mode, field names as the format spells
/// them (model_signing refuses unknown keys, so nothing else is written).
struct Bundle: Codable {
    struct Material: Codable {
        struct PublicKey: Codable { var hint: String? }
        var publicKey: PublicKey
        var tlogEntries: [String]?
    }
    struct Envelope: Codable {
        struct Signature: Codable {
            var sig: String
            var keyid: String?
        }
        var payload: String
        var payloadType: String
        var signatures: [Signature]
    }
    var mediaType: String
    var verificationMaterial: Material
    var dsseEnvelope: Envelope
}

/// The in-toto statement model_signing signs: one subject, a manifest of file digests.
struct Statement: Codable {
    struct Subject: Codable {
        var name: String
        var digest: [String: String]
    }
    struct Predicate: Codable {
        struct Serialization: Codable {
            var method: String
            var hash_type: String
            var allow_symlinks: Bool
            var ignore_paths: [String]?
        }
        struct Resource: Codable {
            var name: String
            var algorithm: String
            var digest: String
        }
        var serialization: Serialization
        var resources: [Resource]
    }
    var type: String
    var subject: [Subject]
    var predicateType: String
    var predicate: Predicate

    enum CodingKeys: String, CodingKey {
        case type = "_type", subject, predicateType, predicate
    }
}

/// Why a signature was not accepted.
public enum SignatureError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case malformed(String)
    case untrusted(String)
    case mismatch(String)
    case badKey(String)

    public var description: String {
        switch self {
        case .missing(let path): "\(path): no such file"
        case .malformed(let why): "the signature is malformed: \(why)"
        case .untrusted(let why): "the signature is untrusted: \(why)"
        case .mismatch(let why): "the signature does not match: \(why)"
        case .badKey(let why): "bad key: \(why)"
        }
    }
}
