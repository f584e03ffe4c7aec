import Foundation
import ScionTestSupport
import Testing

/// `scion sign` / `scion verify` against OpenSSF's own tool (PyPI model-signing 1.1.1, which
/// .ci/run installs): each accepts the other's signatures, and both refuse an edited model.
@Suite(
    .enabled(
        if: (try? ScionBinary.runTool(["python3", "-c", "import model_signing"]))?.status == 0,
        "model_signing is not installed (pip install model-signing==1.1.1 pyopenssl): skipping"))
struct SigningInteropTests {
    @Test func scionAndModelSigningAcceptEachOthersSignatures() throws {
        let dir = TemporaryDirectory()
        let model = dir.file("m.h5"), key = dir.file("key.pem"), pub = dir.file("key.pub.pem")
        #expect(
            try ScionBinary.run(["init", "--arch", "cnn-small", "--classes", "3", "--input", "1x28x28", "-o", model])
                .status == 0)
        #expect(try ScionBinary.run(["keygen", "-o", key]).status == 0)
        #expect(try ScionBinary.run(["sign", model, "--key", key]).status == 0)
        let python = """
            import model_signing, pathlib, sys
            m, sig, pub, key, out = sys.argv[1:6]
            model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(pathlib.Path(m), sig)
            model_signing.signing.Config().use_elliptic_key_signer(private_key=key).sign(pathlib.Path(m), out)
            """
        let theirs = dir.file("theirs.sig")
        let result = try ScionBinary.runTool(["python3", "-c", python, model, model + ".sig", pub, key, theirs])
        #expect(result.status == 0, "model_signing refused Scion's signature: \(result.stderr)")
        let verified = try ScionBinary.run(["verify", model, "--trusted-key", pub, "--signature", theirs])
        #expect(verified.status == 0 && verified.stdout.contains("signature valid"), "\(verified.stderr)")
        // One byte of the model changed: both tools refuse.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: model))
        #expect(try ScionBinary.run(["verify", model, "--trusted-key", pub]).status != 0)
        let check =
            "import model_signing, pathlib, sys\nmodel_signing.verifying.Config().use_elliptic_key_verifier(public_key=sys.argv[3]).verify(pathlib.Path(sys.argv[1]), sys.argv[2])"
        #expect(try ScionBinary.runTool(["python3", "-c", check, model, model + ".sig", pub]).status != 0)
    }
}
