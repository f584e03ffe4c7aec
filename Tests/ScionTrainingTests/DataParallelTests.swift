import Foundation
import ScionGraph
import ScionTestSupport
import ScionTraining
import Testing

/// Data-parallel training against one process: ranks are threads sharing a `ThreadGroup`
/// (the MPI build's ranks are processes; tools/mpi_check.sh runs those under mpirun).
@Suite struct DataParallelTests {
    /// Trains `model` for `epochs` on `ranks` threads; returns each rank's final parameters and
    /// rank 0's history.
    func train(
        _ model: Model, ranks: Int, epochs: Int, kind: Optimizer.Kind = .adam,
        bucketBytes: Int = TrainingSession.defaultBucketBytes
    ) throws -> (parameters: [[String: Tensor]], history: [EpochRecord], collectives: [ThreadCollective]) {
        let group = ThreadGroup(size: ranks), outcome = Outcome(ranks)
        let collectives = (0..<ranks).map { group.member($0) }
        let done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    let session = try TrainingSession(
                        model: model, spec: Toy.spec, optimizer: Toy.optimizer(model, kind: kind),
                        batchSize: 16 / ranks,
                        threads: 1, collective: collectives[rank], bucketBytes: bucketBytes)
                    let loader = BatchLoader(
                        data: Toy.data(count: 64, seed: 1), batchSize: 16, augmentation: .cropAndFlip, seed: 9)
                    loader.shard = (rank, ranks)
                    let trainer = Trainer(
                        session: session, loader: loader,
                        configuration: TrainerConfiguration(
                            epochs: epochs, learningRate: 0.01, schedule: .cosine(epochs: epochs), seed: 9,
                            showProgress: false))
                    let history = try trainer.run()
                    outcome.set(rank, (session.currentModel().parameters, history))
                } catch {
                    outcome.fail(error)
                }
            }.start()
        }
        done.wait()
        let (parameters, history) = try outcome.get()
        return (parameters, history, collectives)
    }

    /// What each rank's thread ends with.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [([String: Tensor], [EpochRecord])?]
        private var failure: (any Error)?
        init(_ ranks: Int) { results = Array(repeating: nil, count: ranks) }
        func set(_ rank: Int, _ result: ([String: Tensor], [EpochRecord])) { lock.withLock { results[rank] = result } }
        func fail(_ error: any Error) { lock.withLock { failure = error } }
        func get() throws -> (parameters: [[String: Tensor]], history: [EpochRecord]) {
            try lock.withLock {
                if let failure { throw failure }
                return (results.compactMap { $0?.0 }, results.first??.1 ?? [])
            }
        }
    }

    @Test(arguments: [Optimizer.Kind.adam, .sgd(momentum: 0.9, nesterov: true)])
    func twoRanksAtHalfTheBatchEqualOneProcess(kind: Optimizer.Kind) throws {
        let model = try independentSamplesModel(convChannels: 4)
        let one = try train(model, ranks: 1, epochs: 2, kind: kind)
        let two = try train(model, ranks: 2, epochs: 2, kind: kind)
        #expect(two.parameters.count == 2)
        for (name, tensor) in one.parameters[0] {
            #expect(maxDifference(two.parameters[0][name], tensor) < 1e-5, "\(name)")
        }
        #expect(abs(two.history[1].loss - one.history[1].loss) < 1e-5)
        #expect(two.history[1].train_accuracy == one.history[1].train_accuracy)
    }

    @Test func everyRankEndsWithTheSameParameters() throws {
        // With BatchNorm and dropout: shards differ, yet the agreed updates keep ranks equal.
        let two = try train(try Toy.model(), ranks: 2, epochs: 1)
        for (name, tensor) in two.parameters[0] {
            #expect(two.parameters[1][name]?.floats.map(\.bitPattern) == tensor.floats.map(\.bitPattern), "\(name)")
        }
    }

    @Test func bucketsStartDuringTheBackwardPassAndSumTheSame() throws {
        let model = try independentSamplesModel(convChannels: 4)
        let whole = try train(model, ranks: 2, epochs: 1, bucketBytes: 0)
        let buckets = try train(model, ranks: 2, epochs: 1, bucketBytes: 4)
        let steps = 64 / 16
        // One sum per step, started after the last gradient is written; with 4-byte buckets one
        // per parameter tensor (4), the first started while later steps still ran, each of which
        // then lets the sums advance.
        #expect(whole.collectives[0].started == steps)
        #expect(buckets.collectives[0].started == 4 * steps)
        #expect(buckets.collectives[0].progressed > whole.collectives[0].progressed + steps)
        for (name, tensor) in whole.parameters[0] {
            let bits = buckets.parameters[0][name]?.floats.map(\.bitPattern)
            #expect(bits == tensor.floats.map(\.bitPattern), "\(name)")
        }
    }

    @Test func shardsSplitEachBatchAndKeepEveryProcessBusy() {
        let data = Toy.data(count: 37, seed: 1)
        let whole = BatchLoader(data: data, batchSize: 8, dropLast: false, shuffle: true, seed: 3)
        let halves = (0..<2).map { r in
            let l = BatchLoader(data: data, batchSize: 8, dropLast: false, shuffle: true, seed: 3)
            l.shard = (r, 2)
            return l
        }
        let order = whole.order(epoch: 0)
        #expect(whole.batchesPerEpoch == 5)
        // The last batch has 5 samples, enough for both ranks.
        #expect(halves[0].batchesPerEpoch == 5)
        for index in 0..<5 {
            let full = whole.batch(epoch: 0, index: index, order: order)
            let parts = halves.map { $0.batch(epoch: 0, index: index, order: order) }
            #expect(parts[0].labels + parts[1].labels == full.labels)
            #expect(parts[0].images + parts[1].images == full.images)
        }
    }
}
