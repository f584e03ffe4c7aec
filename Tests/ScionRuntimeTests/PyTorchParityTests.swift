import ScionCompiler
import ScionFormat
import ScionGraph
import ScionKernels
import ScionRuntime
import ScionTestSupport
import Testing

/// Whole networks against PyTorch: the reference files in Models/parity were made by
/// `tools/parity.py` (PyTorch's weights copied into Scion files, inputs and eval-mode outputs).
@Suite struct PyTorchParityTests {
    static let folder = SharedData.packageRoot + "/Models/parity"

    @Test(arguments: ["wrn16-1", "wrn16-1-trap"])
    func compiledExecutorMatchesPyTorch(name: String) throws {
        let model = try ModelFile.read("\(Self.folder)/\(name).h5")
        let input = try NPY.read("\(Self.folder)/\(name).input.npy")
        for passes in [Compiler.standardPasses, []] {
            let executor = try Executor(
                model: model, options: .init(maxBatch: input.shape[0], threads: 2, passes: passes))
            let outputs = try executor.run(["image": input])
            for output in model.graph.outputs {
                let expected = try NPY.read("\(Self.folder)/\(name).\(output).npy")
                let difference = maxDifference(outputs[output], expected)
                #expect(
                    difference < 1e-4, "\(name) \(output) with \(passes.count) passes: max difference \(difference)")
            }
        }
    }

    @Test func referenceInterpreterMatchesPyTorch() throws {
        let model = try ModelFile.read("\(Self.folder)/wrn16-1.h5")
        let input = try NPY.read("\(Self.folder)/wrn16-1.input.npy")
        let logits = try ReferenceInterpreter(model: model).run(["image": input])["logits"]
        #expect(maxDifference(logits, try NPY.read("\(Self.folder)/wrn16-1.logits.npy")) < 1e-4)
    }

    /// `--precision bf16` on a whole network: its Winograd products round their inputs to bf16,
    /// so the logits move (and must move: the BF16 kernels ran) but stay close to PyTorch's.
    @Test(.enabled(if: Precision.bf16Available, "the CPU has no AVX-512 BF16"))
    func bf16ExecutorStaysCloseToPyTorch() throws {
        let model = try ModelFile.read("\(Self.folder)/wrn16-1.h5")
        let input = try NPY.read("\(Self.folder)/wrn16-1.input.npy")
        let expected = try NPY.read("\(Self.folder)/wrn16-1.logits.npy")
        let executor = try Executor(
            model: model, options: .init(maxBatch: input.shape[0], threads: 2, precision: .bf16))
        let logits = try executor.run(["image": input])["logits"]
        let difference = maxDifference(logits, expected), largest = expected.floats.map(abs).max() ?? 1
        #expect(
            difference > 1e-4 && difference < 0.02 * largest, "max difference \(difference), largest logit \(largest)")
    }
}
