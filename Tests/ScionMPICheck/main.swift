// Run under mpirun by tools/mpi_check.sh, in the MPI build: every rank trains the same small
// network data-parallel, then checks that all ranks hold the same parameters (content hash)
// and, on rank 0, that they equal one process training at the whole batch; then trains again
// with the gradients summed in small buckets started during the backward pass (MPI's
// non-blocking allreduce), which must give the same parameters bit for bit. Exit status 0 when
// all hold. Built without the MPI trait it only says so.
import Foundation

#if MPI
    import ScionFormat
    import ScionGraph
    import ScionImage
    import ScionMPI
    import ScionTestSupport
    import ScionTraining

    func train(
        _ collective: any Collective, batch: Int = 32, epochs: Int = 3,
        bucketBytes: Int = TrainingSession.defaultBucketBytes
    ) throws -> Model {
        let model = try independentSamplesModel(convChannels: 8)
        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            keepOutputs: ["logits"])
        let optimizer = Optimizer(
            kind: .sgd(momentum: 0.9, nesterov: true),
            groups: [.init(parameters: model.graph.parameters.map(\.name), weightDecay: 5e-4)])
        let session = try TrainingSession(
            model: model, spec: spec, optimizer: optimizer, batchSize: (batch + collective.size - 1) / collective.size,
            threads: 1, collective: collective, bucketBytes: bucketBytes)
        let loader = BatchLoader(
            data: SyntheticImages.stripes(count: 256, seed: 1), batchSize: batch, augmentation: .cropAndFlip, seed: 9)
        loader.shard = (collective.rank, collective.size)
        let trainer = Trainer(
            session: session, loader: loader,
            configuration: TrainerConfiguration(
                epochs: epochs, learningRate: 0.05, schedule: .cosine(epochs: epochs), seed: 9, showProgress: false))
        try trainer.run()
        return session.currentModel()
    }

    func main() throws -> Bool {
        let world = try MPICollective.world()
        let trained = try train(world)
        let hash = try ContentHash.of(trained)
        // Rank 0's hash, byte by byte, to every rank.
        var bytes = Array(hash.utf8).map(Float.init)
        try world.broadcast(&bytes)
        var agree = [bytes == Array(hash.utf8).map(Float.init) ? 1.0 : 0.0]
        try world.allreduceSum(&agree)
        print("rank \(world.rank)/\(world.size): parameters \(hash)")
        // Two ranks' sums are the same additions however the buffer is cut.
        let bucketed = try ContentHash.of(try train(world, bucketBytes: 256))
        print("rank \(world.rank)/\(world.size): parameters \(bucketed) with 256-byte buckets")
        guard world.isRoot else { return agree[0] == Double(world.size) && bucketed == hash }
        let alone = try train(SingleProcess())
        var largest: Float = 0
        for (name, tensor) in alone.parameters {
            let other = trained.parameters[name]?.floats ?? []
            largest = max(largest, zip(tensor.floats, other).map { abs($0 - $1) }.max() ?? .infinity)
            if other.count != tensor.count { largest = .infinity }
        }
        print("ranks agreeing: \(Int(agree[0])) of \(world.size); largest difference from one process: \(largest)")
        return agree[0] == Double(world.size) && largest < 1e-5 && bucketed == hash
    }

    do {
        exit(try main() ? 0 : 1)
    } catch {
        print("Error: \(error)")
        exit(1)
    }
#else
    print("scion-mpi-check: built without MPI (make mpi builds it with)")
    exit(2)
#endif
