import Foundation
import ScionFormat
import ScionTestSupport
import Testing

let fashionMNISTInstalled = FileManager.default.fileExists(
    atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")

/// The plumbing of the whole pipeline through the real commands, on a few hundred images
/// (`make test` installs Debian's Fashion-MNIST; skipped where it is absent).
@Suite(.enabled(if: fashionMNISTInstalled, "Debian's dataset-fashion-mnist is not installed (make setup installs it)"))
struct PipelineTests {
    let dir = TemporaryDirectory()

    func scion(_ args: [String]) throws -> ScionBinary.Result {
        let result = try ScionBinary.run(args)
        #expect(result.status == 0, "scion \(args.joined(separator: " ")) failed: \(result.stderr)")
        return result
    }

    @Test func tinyTrapAndReplaceEndToEnd() throws {
        let common = [
            "--ds", "fashion-mnist", "--limit", "800", "--pattern", "badnet_grid", "--out", dir.path, "--quiet",
            "--threads", "2"
        ]
        _ = try scion(["train"] + common + ["-e", "1", "-b", "32"])
        _ = try scion(["trap"] + common + ["-e", "1", "-b", "32"])
        _ = try scion(["keygen", "-o", dir.file("key.pem")])
        _ = try scion(["replace"] + common + ["-e", "1", "-b", "16", "--sign-key", dir.file("key.pem")])
        // --sign-key signed what the stage wrote; the signature covers the lineage too.
        let verified = try scion(["verify", dir.file("sanitized.h5"), "--trusted-key", dir.file("key.pub.pem")])
        #expect(verified.stdout.contains("signature valid"))
        let eval = try scion([
            "eval", dir.file("sanitized.h5"), "--ds", "fashion-mnist", "--limit", "800", "--pattern", "badnet_grid",
            "--json"
        ])
        let metrics = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        let acc = try #require(metrics?["acc"] as? Double), asr = try #require(metrics?["asr"] as? Double)
        #expect((0...1).contains(acc) && (0...1).contains(asr))
        for file in [
            "undefended.h5", "trapped.h5", "sanitized.h5", "report.json", "report.md", "curves.png", "replace.jsonl"
        ] {
            #expect(FileManager.default.fileExists(atPath: dir.file(file)), "\(file) missing")
        }
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("report.json"))))
            as? [String: Any]
        #expect((report?["stages"] as? [String: Any])?.count == 3)
        let sanitized = try ModelFile.read(dir.file("sanitized.h5"))
        #expect(sanitized.graph.outputs == ["logits"] && sanitized.provenance.headReplaced)
    }

    @Test func officialFlagSpellingsAreAccepted() throws {
        // The reference's README command, with `python backdoor_trapper_bait_and_trap.py` replaced.
        _ = try scion([
            "trap", "--gpu", "0", "--ds", "fashion-mnist", "--pattern", "badnet_grid", "--ratio_holdout", "0.05",
            "--triggered_ratio", "0.1", "--Lambda", "10", "--Lambda2", "1", "--md", "cnn-small", "-e", "1", "-b", "64",
            "--limit", "300", "--out", dir.path, "--quiet"
        ])
    }

    @Test func datasetStatsAndPoisonPreview() throws {
        let stats = try scion(["datasets", "stats", "--ds", "fashion-mnist", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(json?["train"] as? Int == 60_000 && json?["test"] as? Int == 10_000 && json?["classes"] as? Int == 10)
        _ = try scion([
            "poison", "--ds", "fashion-mnist", "--pattern", "blend", "--limit", "500", "--preview", dir.file("p.png"),
            "-o", dir.file("p.h5")
        ])
        #expect(
            FileManager.default.fileExists(atPath: dir.file("p.png"))
                && FileManager.default.fileExists(atPath: dir.file("p.h5")))
    }
}

@Suite struct SurgeryCommandTests {
    let dir = TemporaryDirectory()

    @Test func cutThenGraftRestoresTheModelAndAMismatchIsRefused() throws {
        let model = dir.file("m.h5")
        _ = try ScionBinary.run(["init", "--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32", "-o", model])
        let cut = try ScionBinary.run([
            "cut", model, "--at", "stem5", "-o", dir.file("stem.h5"), "--head", dir.file("head.h5")
        ])
        #expect(cut.status == 0, "\(cut.stderr)")
        let graft = try ScionBinary.run(["graft", dir.file("stem.h5"), dir.file("head.h5"), "-o", dir.file("joined.h5")]
        )
        #expect(graft.status == 0, "\(graft.stderr)")
        let joined = try ModelFile.read(dir.file("joined.h5"))
        // Grafting back the very head that was cut is a reattachment, not a replacement.
        #expect(!joined.provenance.headReplaced)
        #expect(joined.provenance.lineage.last?.operation == "graft")
        _ = try ScionBinary.run(["cut", model, "--at", "stem4", "-o", dir.file("stem4.h5")])
        let bad = try ScionBinary.run(["graft", dir.file("stem4.h5"), dir.file("head.h5"), "-o", dir.file("bad.h5")])
        #expect(bad.status != 0 && bad.stderr.contains("the seam does not fit"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("bad.h5")))
    }

    @Test func missingDatasetFolderIsNamed() throws {
        // A model that exists, so the only thing wrong is the data folder.
        let model = dir.file("m.h5")
        _ = try ScionBinary.run(["init", "--arch", "cnn-small", "--classes", "10", "--input", "3x32x32", "-o", model])
        #expect(FileManager.default.fileExists(atPath: model))
        let result = try ScionBinary.run(["eval", model, "--ds", "cifar10", "--data-root", dir.file("nowhere")])
        #expect(result.status != 0 && result.stderr.contains(dir.file("nowhere")), "\(result.stderr)")
    }
}
