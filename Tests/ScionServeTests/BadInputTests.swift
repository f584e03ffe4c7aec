import Crypto
import Foundation
import ScionFormat
import ScionGraph
import ScionServe
import ScionSigning
import ScionTestSupport
import Testing

/// Every kind of bad request gets a 4xx `{"error": ...}` naming the problem, and the server
/// goes on answering good requests.
@Suite struct BadInputTests {
    static let shape = [3, 16, 16]

    static func body(_ input: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["inputs": [input]])) ?? Data()
    }

    static func tensor(shape: [Int], datatype: String = "FP32", data: Any? = nil, name: String = "image") -> Data {
        body([
            "name": name, "shape": shape, "datatype": datatype,
            "data": data ?? [Double](repeating: 0.5, count: shape.reduce(1, *))
        ])
    }

    /// (what, path, body, expected status, a phrase the error must contain)
    static let cases: [(String, String, Data, Int, String)] = [
        ("malformed JSON", "/v2/models/clean/infer", Data("{\"inputs\": [".utf8), 400, "malformed JSON"),
        ("not an object", "/v2/models/clean/infer", Data("[1, 2]".utf8), 400, "JSON object"),
        ("no inputs", "/v2/models/clean/infer", Data("{}".utf8), 400, "'inputs'"),
        ("wrong input name", "/v2/models/clean/infer", tensor(shape: [1] + shape, name: "x"), 400, "unknown input 'x'"),
        (
            "wrong datatype", "/v2/models/clean/infer", tensor(shape: [1] + shape, datatype: "FP16"), 400,
            "datatype 'FP16'"
        ),
        ("wrong shape", "/v2/models/clean/infer", tensor(shape: [1, 3, 8, 8]), 400, "does not match"),
        ("no batch dimension", "/v2/models/clean/infer", tensor(shape: shape), 400, "[N, C, H, W]"),
        ("zero extent", "/v2/models/clean/infer", tensor(shape: [0] + shape, data: []), 400, "positive"),
        (
            "too few values", "/v2/models/clean/infer",
            tensor(shape: [2] + shape, data: [Double](repeating: 0, count: 768)), 400, "needs 1536"
        ),
        (
            "too many values", "/v2/models/clean/infer",
            tensor(shape: [1] + shape, data: [Double](repeating: 0, count: 800)), 400, "more values"
        ),
        ("strings in data", "/v2/models/clean/infer", tensor(shape: [1] + shape, data: ["a"]), 400, "only numbers"),
        ("booleans in data", "/v2/models/clean/infer", tensor(shape: [1] + shape, data: [true]), 400, "only numbers"),
        (
            "UINT8 out of range", "/v2/models/clean/infer",
            tensor(shape: [1] + shape, datatype: "UINT8", data: [Double](repeating: 300, count: 768)), 400, "0...255"
        ),
        (
            "absurd dimensions", "/v2/models/clean/infer", tensor(shape: [1, 3, 1 << 30, 1 << 30], data: []), 400,
            "does not match"
        ),
        ("absurd batch", "/v2/models/clean/infer", tensor(shape: [1 << 40] + shape, data: []), 413, "at most"),
        (
            "unknown output", "/v2/models/clean/infer",
            {
                var object =
                    (try? JSONSerialization.jsonObject(with: tensor(shape: [1] + shape))) as? [String: Any] ?? [:]
                object["outputs"] = [["name": "nope"]]
                return (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
            }(), 400, "unknown output 'nope'"
        ),
        (
            "deeply nested JSON", "/v2/models/clean/infer",
            Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8), 400, "JSON"
        ),
        ("unknown model", "/v2/models/nope/infer", tensor(shape: [1] + shape), 404, "no model nope"),
        ("unknown version", "/v2/models/clean/versions/9/infer", tensor(shape: [1] + shape), 404, "version 9"),
        ("unknown endpoint", "/v2/models/clean/explain", Data(), 404, "no such endpoint"),
        ("not an image", "/v2/models/clean/classify", Data("hello, world".utf8), 400, "not a PNG, JPEG or PPM"),
        ("empty image body", "/v2/models/clean/classify", Data(), 400, "not a PNG, JPEG or PPM"),
        (
            "absurd image dimensions", "/v2/models/clean/classify",
            Data("P6\n100000 100000\n255\n".utf8) + Data(count: 16), 413, "pixel limit"
        )
    ]

    @Test func everyBadRequestGetsAnErrorAndTheServerGoesOn() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        for (what, path, body, status, phrase) in Self.cases {
            let reply = try await server.send("POST", path, body: body)
            #expect(reply.status == status, "\(what): \(reply.status) \(reply.error ?? "")")
            #expect(reply.headers["content-type"] == "application/json", "\(what)")
            #expect(
                reply.error?.contains(phrase) == true,
                "\(what): \(reply.error ?? String(decoding: reply.body, as: UTF8.self))")
            let good = try await server.post(
                "/v2/models/clean/infer", json: LiveServer.inferBody([fixture.sample(seed: 1)], shape: Self.shape))
            #expect(good.status == 200, "after \(what)")
        }
        try await server.stop()
    }

    @Test func oversizedBodyIs413() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath], ServerSettings(maxBodyMegabytes: 0.1))
        let big = LiveServer.inferBody((0..<20).map { fixture.sample(seed: UInt64($0)) }, shape: Self.shape)
        let reply = try await server.post("/v2/models/clean/infer", json: big)
        #expect(reply.status == 413)
        #expect(reply.error?.contains("--max-body-mb") == true, "\(reply.error ?? "")")
        let good = try await server.post(
            "/v2/models/clean/infer", json: LiveServer.inferBody([fixture.sample(seed: 1)], shape: Self.shape))
        #expect(good.status == 200)
        try await server.stop()
    }
}

/// Only sanitized models are served unless the operator says otherwise, and then loudly.
@Suite struct SanitizationGateTests {
    @Test func unsanitizedModelIsRefused() throws {
        let fixture = try ServeFixture()
        #expect {
            _ = try ScionServer(models: [fixture.unsanitizedPath], settings: ServerSettings())
        } throws: { error in
            "\(error)".contains("shows no head replacement") && "\(error)".contains("--allow-unsanitized")
        }
    }

    /// An unsanitized model given a sanitized model's lineage (copied, as one line of h5py
    /// would), and a sanitized model whose weights were edited afterwards (content hash
    /// recomputed, so the file itself is valid): neither lineage is the model's own history.
    /// (A lineage written from scratch without recorded results is only caught by a signature.)
    @Test func copiedOrOutdatedLineageIsRefused() throws {
        let fixture = try ServeFixture()
        let dir = TemporaryDirectory()
        var forged = try ModelFile.read(fixture.unsanitizedPath)
        forged.provenance = try ModelFile.read(fixture.sanitizedPath).provenance
        forged.parameters = forged.parameters.mapValues { Tensor(shape: $0.shape, values: $0.floats.map { $0 * 0.5 }) }
        try ModelFile.write(forged, to: dir.file("forged.h5"))
        var edited = try ModelFile.read(fixture.sanitizedPath)
        let weight = try #require(edited.graph.parameters.first { $0.role == .weight })
        edited.parameters[weight.name] = Tensor(
            shape: weight.shape, values: Array(repeating: 0.5, count: weight.elementCount))
        try ModelFile.write(edited, to: dir.file("edited.h5"))
        for name in ["forged.h5", "edited.h5"] {
            #expect {
                _ = try ScionServer(models: [dir.file(name)], settings: ServerSettings())
            } throws: { error in
                "\(error)".contains(
                    "claims a new head but is broken: the model is not what its last step (replace) produced")
            }
        }
    }

    @Test func allowedUnsanitizedModelIsFlaggedOnEveryResponse() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start(
            ["raw=\(fixture.unsanitizedPath)", "clean=\(fixture.sanitizedPath)"], ServerSettings(allowUnsanitized: true)
        )
        for path in ["/v2/health/live", "/v2/models/clean", "/v2/models/nope"] {
            #expect(try await server.get(path).headers["scion-unsanitized-models"] == "raw", "\(path)")
        }
        let meta = try await server.get("/v2/models/raw")
        #expect((meta.json["parameters"] as? [String: Any])?["sanitized"] as? Bool == false)
        try await server.stop()
    }

    @Test func missingAndCorruptModelFilesAreNamed() throws {
        let fixture = try ServeFixture()
        let corrupt = fixture.directory.file("corrupt.h5")
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: corrupt))
        for path in [fixture.directory.file("missing.h5"), corrupt] {
            #expect {
                _ = try ScionServer(models: [path], settings: ServerSettings())
            } throws: { error in "\(error)".contains(path) }
        }
    }
}

/// `--trusted-keys`: a model is served only with a signature from a trusted key over the very
/// file (weights, metadata and lineage), and only if that signed lineage shows a new head.
@Suite struct TrustedKeysTests {
    @Test func onlyAValidSignatureFromATrustedKeyIsServed() throws {
        let fixture = try ServeFixture()
        let dir = TemporaryDirectory()
        let key = P256.Signing.PrivateKey(), stranger = P256.Signing.PrivateKey()
        let settings = ServerSettings(trustedKeys: [key.publicKey.pemRepresentation])
        func write(_ name: String, _ model: Model, signedBy signer: P256.Signing.PrivateKey?) throws -> String {
            let path = dir.file(name)
            try ModelFile.write(model, to: path)
            if let signer { try ModelSignature.sign(path, key: signer).write(to: URL(fileURLWithPath: path + ".sig")) }
            return path
        }
        let sanitized = try ModelFile.read(fixture.sanitizedPath)
        var forged = try ModelFile.read(fixture.unsanitizedPath)
        forged.provenance = Provenance(lineage: [LineageStep(operation: LineageStep.graft)])
        let valid = try write("valid.h5", sanitized, signedBy: key)
        // Signed, then changed: the old signature stays beside the new file.
        let weightChanged = try write("weights.h5", sanitized, signedBy: key)
        var changed = sanitized
        let weight = try #require(changed.graph.parameters.first { $0.role == .weight })
        changed.parameters[weight.name] = Tensor(shape: weight.shape, repeating: 0.25)
        try ModelFile.write(changed, to: weightChanged)
        let lineageEdited = try write("lineage.h5", sanitized, signedBy: key)
        var edited = sanitized
        edited.provenance.lineage[edited.provenance.lineage.count - 1].details["asr"] = .number(0)
        try ModelFile.write(edited, to: lineageEdited)
        let cases: [(String, String)] = [
            (try write("forged.h5", forged, signedBy: nil), "is not signed"),
            (weightChanged, "the file changed since it was signed"),
            (lineageEdited, "the file changed since it was signed"),
            (try write("stranger.h5", sanitized, signedBy: stranger), "not valid for any trusted key")
        ]
        for (path, reason) in cases {
            #expect {
                _ = try ScionServer(models: [path], settings: settings)
            } throws: { "\($0)".contains(reason) }
        }
        let server = try ScionServer(models: [valid], settings: settings)
        #expect(server.models.first?.signer == SigningKeys.hint(key.publicKey))
    }
}
