import Foundation
import ScionFormat
import ScionGraph

/// What a checkpoint stores besides the model: where training stands and the optimizer's state.
public struct TrainingState: Sendable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    public var seed: UInt64
    public var optimizer: String
    public var optimizerSteps: Int
    /// Per-parameter optimizer buffers (momentum, or Adam's moments), by parameter name.
    public var optimizerState: [String: [[Float]]]

    public init(epoch: Int, seed: UInt64, optimizer: String, optimizerSteps: Int, optimizerState: [String: [[Float]]]) {
        self.epoch = epoch
        self.seed = seed
        self.optimizer = optimizer
        self.optimizerSteps = optimizerSteps
        self.optimizerState = optimizerState
    }
}

/// Checkpoints are model files (see docs/FORMAT.md) with an extra `/training` group:
/// `@epoch`, `@seed`, `@optimizer`, `@optimizer_steps` and one dataset per optimizer buffer,
/// `/training/optimizer/<k>/<parameter>` (k = 0 for SGD momentum and Adam's first moment, 1 for
/// Adam's second). Random draws derive from the seed and the epoch, so no generator state is
/// needed to resume exactly. Written atomically; `scion inspect` reads them as models.
public enum Checkpoint {
    public static func write(model: Model, state: TrainingState, to path: String) throws {
        try ModelFile.write(model, to: path) { root in
            let group = try root.createGroup("training")
            try group.setAttribute(.ints([Int64(state.epoch)]), named: "epoch")
            try group.setAttribute(.string(String(state.seed)), named: "seed")
            try group.setAttribute(.string(state.optimizer), named: "optimizer")
            try group.setAttribute(.ints([Int64(state.optimizerSteps)]), named: "optimizer_steps")
            let optimizer = try group.createGroup("optimizer")
            let slots = state.optimizerState.values.map(\.count).max() ?? 0
            for k in 0..<slots {
                let slot = try optimizer.createGroup(String(k))
                for (name, buffers) in state.optimizerState.sorted(by: { $0.key < $1.key }) where k < buffers.count {
                    try slot.writeTensor(name, Tensor(shape: [buffers[k].count], values: buffers[k]))
                }
            }
        }
    }

    /// Reads a checkpoint: the model (fully validated) and the training state.
    public static func read(_ path: String) throws -> (model: Model, state: TrainingState) {
        let model = try ModelFile.read(path)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard file.root.contains("training") else {
            throw ModelFileError.malformed(
                path: path, object: "/training", problem: "not a checkpoint (no training state)")
        }
        let group = try file.root.openGroup("training")
        guard case .ints(let epoch)? = try group.attribute("epoch"),
            case .string(let seedText)? = try group.attribute("seed"),
            let seed = UInt64(seedText), case .string(let optimizer)? = try group.attribute("optimizer"),
            case .ints(let steps)? = try group.attribute("optimizer_steps"), epoch.count == 1, steps.count == 1
        else {
            throw ModelFileError.malformed(
                path: path, object: "/training", problem: "missing or malformed training attributes")
        }
        var state: [String: [[Float]]] = [:]
        if group.contains("optimizer") {
            let optimizerGroup = try group.openGroup("optimizer")
            for slot in try optimizerGroup.memberNames().sorted(by: { Int($0) ?? 0 < Int($1) ?? 0 }) {
                let slotGroup = try optimizerGroup.openGroup(slot)
                for name in try slotGroup.memberNames() {
                    guard let count = model.parameters[name]?.count else {
                        throw ModelFileError.malformed(
                            path: path, object: "/training/optimizer/\(slot)/\(name)", problem: "no such parameter")
                    }
                    let tensor = try slotGroup.readTensor(name, dtype: .float32, maxElements: count)
                    guard tensor.count == count else {
                        throw ModelFileError.malformed(
                            path: path, object: "/training/optimizer/\(slot)/\(name)", problem: "wrong size")
                    }
                    state[name, default: []].append(tensor.floats)
                }
            }
        }
        return (
            model,
            TrainingState(
                epoch: Int(epoch[0]), seed: seed, optimizer: optimizer, optimizerSteps: Int(steps[0]),
                optimizerState: state)
        )
    }
}
