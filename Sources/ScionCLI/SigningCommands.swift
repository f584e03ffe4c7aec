import ArgumentParser
import Foundation
import ScionFormat
import ScionSigning

/// `scion keygen`: an ECDSA P-256 key pair for signing models.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Make an ECDSA P-256 key pair (PEM) for signing models.")

    @Option(name: .shortAndLong, help: "The private key file; the public key goes beside it as NAME.pub.pem.")
    var output: String

    func run() throws {
        let pair = SigningKeys.generate()
        let publicPath = (output.hasSuffix(".pem") ? String(output.dropLast(4)) : output) + ".pub.pem"
        guard !FileManager.default.fileExists(atPath: output) else {
            throw ValidationError("\(output) exists; keygen does not overwrite keys")
        }
        try AtomicFile.write(Data(pair.privatePEM.utf8), to: output)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: output)
        try AtomicFile.write(Data(pair.publicPEM.utf8), to: publicPath)
        note("wrote \(output) (private: keep it secret) and \(publicPath) (public: give it to whoever verifies)")
    }
}

/// `scion sign`: a model_signing-compatible signature beside the model.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a model file (OpenSSF model signing format; covers weights, metadata and lineage).")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(help: "Private key (PEM, ECDSA P-256).")
    var key: String

    @Option(help: "Where to write the signature (default: MODEL.sig).")
    var signature: String?

    func run() throws {
        _ = try ModelFile.read(model)  // only valid Scion models are signed
        let bundle = try ModelSignature.sign(model, key: try SigningKeys.privateKey(key))
        let path = signature ?? ModelSignature.defaultPath(for: model)
        try AtomicFile.write(bundle, to: path)
        note("wrote \(path)")
    }
}

/// `scion verify`: check a model's signature against trusted public keys.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify a model file's signature against trusted public keys.")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(name: .customLong("trusted-key"), help: "A trusted public key (PEM); repeat for several.")
    var trustedKeys: [String] = []

    @Option(help: "The signature (default: MODEL.sig).")
    var signature: String?

    func run() throws {
        guard !trustedKeys.isEmpty else { throw ValidationError("give at least one --trusted-key") }
        let path = signature ?? ModelSignature.defaultPath(for: model)
        guard let bundle = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(path): no signature (sign with scion sign, or give --signature)")
        }
        let keys = try trustedKeys.map(SigningKeys.publicKey)
        let signer = try ModelSignature.verify(model, bundle: bundle, trusted: keys)
        print("\(model): signature valid, signed by key \(signer.prefix(16))")
    }
}
