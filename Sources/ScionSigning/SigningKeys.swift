import Crypto
import Foundation

/// ECDSA P-256 keys as PEM files, the kind both Scion and model_signing use.
public enum SigningKeys {
    /// A new key pair as PEM: the private key (PKCS#8) and the public key (SubjectPublicKeyInfo).
    public static func generate() -> (privatePEM: String, publicPEM: String) {
        let key = P256.Signing.PrivateKey()
        return (key.pemRepresentation + "\n", key.publicKey.pemRepresentation + "\n")
    }

    public static func privateKey(_ path: String) throws -> P256.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SignatureError.missing(path) }
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: text) else {
            throw SignatureError.badKey("\(path) is not an unencrypted ECDSA P-256 private key in PEM")
        }
        return key
    }

    public static func publicKey(_ path: String) throws -> P256.Signing.PublicKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SignatureError.missing(path) }
        guard let key = try? P256.Signing.PublicKey(pemRepresentation: text) else {
            throw SignatureError.badKey("\(path) is not an ECDSA P-256 public key in PEM")
        }
        return key
    }

    /// The public keys of every `.pem` file in `folder`.
    public static func trusted(in folder: String) throws -> [P256.Signing.PublicKey] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw SignatureError.missing(folder)
        }
        let keys = try names.filter { $0.hasSuffix(".pem") }.sorted().map { try publicKey(folder + "/" + $0) }
        guard !keys.isEmpty else { throw SignatureError.badKey("\(folder) holds no .pem public keys") }
        return keys
    }

    /// model_signing's key hint: SHA-256 of the public key's PEM, trailing newline included.
    public static func hint(_ key: P256.Signing.PublicKey) -> String {
        ModelSignature.hex(Data(SHA256.hash(data: Data((key.pemRepresentation + "\n").utf8))))
    }
}
