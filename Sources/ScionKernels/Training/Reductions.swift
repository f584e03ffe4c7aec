/// Deterministic reductions over rows: work is split statically (part `t` of `parts` always
/// covers the same rows, in order) and the partial results are combined in part order, so a
/// sum is bit-identical from run to run for a given thread count, whatever the scheduling.
public struct StaticPartition: Sendable {
    public let parts: Int
    public let total: Int

    public init(total: Int, parts: Int) {
        self.total = total
        self.parts = max(1, min(parts, total))
    }

    /// Rows of part `t`.
    public func range(_ t: Int) -> Range<Int> {
        (t * total / parts)..<((t + 1) * total / parts)
    }
}

public enum Reductions {
    /// Per-channel sums of `x` (rows of `channels`) over `rows`, accumulated in Double into
    /// `partial` (`channels` Doubles for this part), 16 lanes at a time whatever the channel count.
    public static func channelSums(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into partial: UnsafeMutablePointer<Double>
    ) {
        partial.update(repeating: 0, count: c)
        addChannelSums(x, rows: rows, channels: c, into: partial)
    }

    /// `channelSums` added to what `partial` holds.
    public static func addChannelSums(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into partial: UnsafeMutablePointer<Double>
    ) {
        KernelLoops.active.addChannelSums(x, rows: rows, channels: c, into: partial)
    }

    /// Adds `parts` consecutive blocks of `count` Doubles in order and writes the Float sum.
    public static func combine(
        _ partials: UnsafePointer<Double>, parts: Int, count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count {
            var sum = 0.0
            for t in 0..<parts { sum += partials[t * count + i] }
            out[i] = Float(sum)
        }
    }
}
