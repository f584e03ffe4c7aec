import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

/// `tools/scion_h5.py` reads Scion files with h5py and numpy alone, recomputing the seal and
/// the content hash from docs/FORMAT.md. Skipped where h5py is not installed.
enum Python {
    static let h5pyAvailable: Bool = {
        (try? run(["python3", "-c", "import h5py, numpy"]))?.status == 0
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try ScionBinary.runTool(arguments)
        return (result.status, result.stdout + result.stderr)
    }
}

@Suite(.enabled(if: Python.h5pyAvailable, "h5py is not installed (pip install h5py): skipping the Python reader test"))
struct PythonInteropTests {

    @Test func pythonReaderListsGraphAndVerifiesHashes() throws {
        let dir = TemporaryDirectory()
        let model = try Fixtures.model("wrn16-1")
        let path = dir.file("wrn.h5")
        try ModelFile.write(model, to: path)
        let tool = SharedData.packageRoot + "/tools/scion_h5.py"
        let result = try Python.run(["python3", tool, path, "--verify", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let facts = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect(facts?["parameter_count"] as? Int == 175_626)
        #expect(facts?["content_hash"] as? String == (try ContentHash.of(model)))
        #expect(facts?["seal"] as? String == "intact")
        let parameters = facts?["parameters"] as? [String: [String: Any]]
        #expect(parameters?["block3.0.conv1.weight"]?["shape"] as? [Int] == [64, 32, 3, 3])
    }

    @Test func variableLengthStringsAsH5pyWritesThemAreRead() throws {
        // h5py's defaults: a Python str attribute and a list of str become variable-length
        // UTF-8 strings, which Scion writes fixed-length.
        let dir = TemporaryDirectory()
        let path = dir.file("vlen.h5")
        let script = """
            import h5py, sys
            with h5py.File(sys.argv[1], "w") as f:
                f.attrs["note"] = "défendu"
                f.attrs["ascii"] = b"plain"
                f.create_dataset("labels", data=["chat", "chien", "oiseau"], dtype=h5py.string_dtype())
            """
        let result = try Python.run(["python3", "-c", script, path])
        #expect(result.status == 0, "\(result.output)")
        let file = try HDF5File.open(path)
        #expect(try file.root.attribute("note") == .string("défendu"))
        #expect(try file.root.attribute("ascii") == .string("plain"))
        #expect(try file.root.openDataset("labels").readStrings(maxBytes: 1 << 20) == ["chat", "chien", "oiseau"])
        #expect(throws: HDF5Error.self) { try file.root.openDataset("labels").readStrings(maxBytes: 8) }
    }
}
