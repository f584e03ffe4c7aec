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
    /// `partial` (`channels` Doubles for this part).
    ///
    /// The rows are read as a flat stream in periods of lcm(channels, 16) floats, so any channel
    /// count runs on whole 16-lane vectors (lane `i` of a period always holds channel `i %
    /// channels`); the Float accumulators are flushed into Double every 64 periods to keep the
    /// precision of a Double sum.
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
        let period = lcm(c, 16), rowsPerPeriod = period / c
        guard period <= 1024 else { return scalarSums(x, rows: rows, channels: c, into: partial) }
        let periods = rows.count / rowsPerPeriod
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: period / 16) { acc in
            var done = 0
            while done < periods {
                let batch = min(64, periods - done)
                acc.initialize(repeating: SIMD16(repeating: 0))
                let base = x + (rows.lowerBound + done * rowsPerPeriod) * c
                for p in 0..<batch {
                    let src = base + p * period
                    for v in 0..<(period / 16) { acc[v] += load16(src + v * 16) }
                }
                for v in 0..<(period / 16) {
                    for lane in 0..<16 { partial[(v * 16 + lane) % c] += Double(acc[v][lane]) }
                }
                done += batch
            }
        }
        scalarSums(x, rows: (rows.lowerBound + periods * rowsPerPeriod)..<rows.upperBound, channels: c, into: partial)
    }

    /// Adds the rows' channels into `partial` one by one.
    static func scalarSums(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into partial: UnsafeMutablePointer<Double>
    ) {
        for r in rows {
            let row = x + r * c
            for ch in 0..<c { partial[ch] += Double(row[ch]) }
        }
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return a / x * b
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
