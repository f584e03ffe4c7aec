import Crypto
import Foundation
import ScionSigning
import ScionTestSupport
import Testing

/// Signing and verifying files in model_signing's format (the Python tool's side is checked in
/// ScionCLITests' SigningInteropTests).
@Suite struct ModelSignatureTests {
    /// A fixed test key, and its hint as model_signing 1.1.1 computed it (Python `cryptography`:
    /// SHA-256 of the SubjectPublicKeyInfo PEM).
    static let keyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2JiRZK4HATc05SzA
        peFEPNOSoLDM22YJX8BP6n6lFzuhRANCAARFrlA9GYyv/10xdIs9gDK0GaSYtSq8
        EDT798ogxhvMB0LrvDA6IzbVyWMXNFlQoyhwxzFLlDdWSjn65DJtHw9J
        -----END PRIVATE KEY-----
        """
    static let keyHint = "0ef969ac2508aecffa841d4c4396ecf76c63b994aa8128811fc7044aaf5b72f1"

    let dir = TemporaryDirectory()

    func file(_ bytes: [UInt8]) throws -> String {
        let path = dir.file("model.h5")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theKeyHintIsModelSigningsHint() throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: Self.keyPEM)
        #expect(SigningKeys.hint(key.publicKey) == Self.keyHint)
    }

    @Test func aSignedFileVerifiesAndNamesItsSigner() throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: Self.keyPEM)
        let path = try file(Array(0..<200))
        let bundle = try ModelSignature.sign(path, key: key)
        let other = P256.Signing.PrivateKey().publicKey
        #expect(try ModelSignature.verify(path, bundle: bundle, trusted: [other, key.publicKey]) == Self.keyHint)
        let json = try #require(try JSONSerialization.jsonObject(with: bundle) as? [String: Any])
        #expect(json["mediaType"] as? String == "application/vnd.dev.sigstore.bundle.v0.3+json")
    }

    @Test func changedBytesUntrustedKeysAndGarbageAreRefused() throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: Self.keyPEM)
        let path = try file(Array(0..<200))
        let bundle = try ModelSignature.sign(path, key: key)
        #expect(throws: SignatureError.untrusted("the signature is not valid for any trusted key")) {
            try ModelSignature.verify(path, bundle: bundle, trusted: [P256.Signing.PrivateKey().publicKey])
        }
        _ = try file(Array(0..<199) + [7])
        #expect {
            try ModelSignature.verify(path, bundle: bundle, trusted: [key.publicKey])
        } throws: { "\($0)".contains("the file changed since it was signed") }
        #expect {
            try ModelSignature.verify(path, bundle: Data("{}".utf8), trusted: [key.publicKey])
        } throws: { "\($0)".contains("not a Sigstore bundle") }
    }
}
