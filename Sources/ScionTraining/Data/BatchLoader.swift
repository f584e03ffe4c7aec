import Foundation
import ScionGraph
import ScionImage

/// One batch: images as NCHW floats in [0, 1], soft targets `[N, classes]` and the labels.
public struct Batch: Sendable {
    public var images: [Float]
    public var targets: [Float]
    public var labels: [Int32]
    public var count: Int { labels.count }

    /// The samples in `range`.
    public func samples(_ range: Range<Int>) -> Batch {
        let perImage = images.count / max(count, 1), classes = targets.count / max(count, 1)
        return Batch(
            images: Array(images[(range.lowerBound * perImage)..<(range.upperBound * perImage)]),
            targets: Array(targets[(range.lowerBound * classes)..<(range.upperBound * classes)]),
            labels: Array(labels[range]))
    }

    public init(images: [Float], targets: [Float], labels: [Int32]) {
        self.images = images
        self.targets = targets
        self.labels = labels
    }
}

/// Shuffles, batches and augments an `ImageSet`, preparing each batch on a background thread so
/// the executor never waits for data.
///
/// Every random choice derives from the seed, the epoch and the batch index (never from thread
/// timing), so an epoch's batches are the same in every run and after a resume.
public final class BatchLoader: @unchecked Sendable {
    public let data: ImageSet
    public let batchSize: Int
    public let dropLast: Bool
    public let shuffle: Bool
    public let augmentation: Augmentation
    public let seed: UInt64
    /// This process's part of every batch when training data-parallel: process `index` of
    /// `count` takes samples `[index·n/count, (index+1)·n/count)` of each n-sample batch.
    public var shard: (index: Int, count: Int) = (0, 1)
    /// Indices of `data` trained away from their label: their target row is −1 there and 0
    /// elsewhere, which cross-entropy reads as `−log(1 − p)` (unlikelihood), no label smoothing.
    /// Set it before the first batch (batches are prepared on a background thread).
    public var unlearn: Set<Int> = []

    public init(
        data: ImageSet, batchSize: Int, dropLast: Bool = true, shuffle: Bool = true, augmentation: Augmentation = .none,
        seed: UInt64
    ) {
        self.data = data
        self.batchSize = max(1, batchSize)
        self.dropLast = dropLast
        self.shuffle = shuffle
        self.augmentation = augmentation
        self.seed = seed
    }

    /// Batches per epoch. Data-parallel, a last partial batch is kept only if every process
    /// gets a sample of it.
    public var batchesPerEpoch: Int {
        let full = data.count / batchSize, rest = data.count % batchSize
        return dropLast || rest < shard.count ? full : full + 1
    }

    /// The sample order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<data.count) }
        var rng = SeededGenerator.derive(seed: seed, stream: "shuffle:\(epoch)")
        return rng.permutation(data.count)
    }

    /// This process's shard of batch `index` of `epoch` (deterministic). The whole batch is
    /// built and cut, so a shard's augmentation and CutMix are exactly those of one process.
    public func batch(epoch: Int, index: Int, order: [Int]) -> Batch {
        let whole = fullBatch(epoch: epoch, index: index, order: order)
        guard shard.count > 1 else { return whole }
        let n = whole.count
        return whole.samples((shard.index * n / shard.count)..<((shard.index + 1) * n / shard.count))
    }

    private func fullBatch(epoch: Int, index: Int, order: [Int]) -> Batch {
        let start = index * batchSize
        let members = Array(order[start..<min(start + batchSize, order.count)])
        let n = members.count, k = data.classes
        let perImage = data.channels * data.height * data.width
        var rng = SeededGenerator.derive(seed: seed, stream: "augment:\(epoch):\(index)")
        var images = [Float](repeating: 0, count: n * perImage)
        var targets = [Float](repeating: augmentation.labelSmoothing / Float(k), count: n * k)
        images.withUnsafeMutableBufferPointer { out in
            for (j, i) in members.enumerated() {
                augmentation.apply(data, i, into: out.baseAddress! + j * perImage, rng: &rng)
            }
        }
        for (j, i) in members.enumerated() {
            if unlearn.contains(i) {
                for c in 0..<k { targets[j * k + c] = 0 }
                targets[j * k + Int(data.labels[i])] = -1
            } else {
                targets[j * k + Int(data.labels[i])] += 1 - augmentation.labelSmoothing
            }
        }
        if augmentation.cutMix {
            images.withUnsafeMutableBufferPointer { img in
                targets.withUnsafeMutableBufferPointer { t in
                    CutMix.apply(
                        images: img.baseAddress!, targets: t.baseAddress!, batch: n, channels: data.channels,
                        height: data.height, width: data.width, classes: k, rng: &rng)
                }
            }
        }
        return Batch(images: images, targets: targets, labels: members.map { data.labels[$0] })
    }

    /// The batches of `epoch` from batch `first` on, prepared one ahead on a background thread.
    public func batches(epoch: Int, from first: Int = 0) -> Prefetcher {
        Prefetcher(loader: self, epoch: epoch, first: first)
    }

    /// Iterates one epoch's batches while a background thread prepares the next.
    public final class Prefetcher: IteratorProtocol, Sequence, @unchecked Sendable {
        private let loader: BatchLoader
        private let epoch: Int
        private let order: [Int]
        private var nextIndex: Int
        private var pending: Batch?
        private let ready = DispatchSemaphore(value: 0)
        private let queue = DispatchQueue(label: "scion.batch-loader")

        init(loader: BatchLoader, epoch: Int, first: Int) {
            self.loader = loader
            self.epoch = epoch
            order = loader.order(epoch: epoch)
            nextIndex = first
            prepare(first)
        }

        private func prepare(_ index: Int) {
            guard index < loader.batchesPerEpoch else { return }
            queue.async { [self] in
                pending = loader.batch(epoch: epoch, index: index, order: order)
                ready.signal()
            }
        }

        public func next() -> Batch? {
            guard nextIndex < loader.batchesPerEpoch else { return nil }
            ready.wait()
            let batch = pending
            nextIndex += 1
            prepare(nextIndex)
            return batch
        }
    }
}
