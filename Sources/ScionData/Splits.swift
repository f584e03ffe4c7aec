import ScionFormat
import ScionGraph
import ScionImage

/// How the training set is divided into the poisoned training split and the clean holdout:
/// the holdout is the last `ratio` of the training set, deterministically. Datasets whose files
/// are grouped by class (GTSRB, image folders) are shuffled once, with a recorded seed, before
/// the split, so holdout and train never overlap (the reference reshuffles and they overlap).
public struct SplitPlan: Sendable, Equatable {
    /// Indices into the original training set, train split first, then the holdout.
    public let order: [Int]
    public let holdoutCount: Int
    /// The shuffle seed, when the dataset was shuffled before splitting.
    public let shuffleSeed: UInt64?

    public init(trainingCount n: Int, ratioHoldout: Double, shuffleSeed: UInt64?) throws {
        guard ratioHoldout >= 0, ratioHoldout < 1 else { throw DataError.invalid("--ratio-holdout must be in [0, 1)") }
        holdoutCount = Int(Double(n) * ratioHoldout)
        self.shuffleSeed = shuffleSeed
        if let shuffleSeed {
            var rng = SeededGenerator.derive(seed: shuffleSeed, stream: "split")
            order = rng.permutation(n)
        } else {
            order = Array(0..<n)
        }
    }

    public var trainIndices: [Int] { Array(order[..<(order.count - holdoutCount)]) }
    public var holdoutIndices: [Int] { Array(order[(order.count - holdoutCount)...]) }

    /// A fingerprint of a split: SHA-256 over its indices (int64) and labels (int32), little-endian.
    public static func fingerprint(indices: [Int], labels: [Int32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(indices.count * 12)
        for i in indices { withUnsafeBytes(of: Int64(i).littleEndian) { bytes += $0 } }
        for l in labels { withUnsafeBytes(of: l.littleEndian) { bytes += $0 } }
        return Digest.sha256(bytes)
    }
}
