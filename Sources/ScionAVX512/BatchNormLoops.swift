// Train-mode BatchNorm's loops and per-channel sums (contracts on `ElementwiseLoops` in
// ScionTiles), compiled per instruction set like ElementwiseLoops.swift. Sums accumulate 16
// channels per Float vector and are flushed into Double every 64 rows: a Double sum's precision
// at vector speed, in a fixed order (deterministic).
import ScionTiles

extension Loops {
    public static func channelMoments(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into sums: UnsafeMutablePointer<Double>
    ) {
        let sum = sums, sq = sums + c
        sum.update(repeating: 0, count: 2 * c)
        guard c % 16 == 0 else {
            for r in rows {
                let row = x + r * c
                for ch in 0..<c {
                    let v = Double(row[ch])
                    sum[ch] += v
                    sq[ch] += v * v
                }
            }
            return
        }
        blockedSums(rows: rows, channels: c, into: sum, sq) { r, ch in
            let v = load(x + r * c + ch)
            return (v, v * v)
        }
    }

    public static func gradientSums(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int,
        mean: UnsafePointer<Float>, invstd: UnsafePointer<Float>, mask: ActivationMask?,
        into sums: UnsafeMutablePointer<Double>
    ) {
        let sumDy = sums, sumDyXhat = sums + c
        sumDy.update(repeating: 0, count: 2 * c)
        guard c % 16 == 0 else {
            for r in rows {
                let g = dy + r * c, v = x + r * c
                for ch in 0..<c {
                    let d = Double(mask?.apply(g[ch], x: v[ch], channel: ch) ?? g[ch])
                    sumDy[ch] += d
                    sumDyXhat[ch] += d * Double((v[ch] - mean[ch]) * invstd[ch])
                }
            }
            return
        }
        if let mask {
            blockedSums(rows: rows, channels: c, into: sumDy, sumDyXhat) { r, ch in
                let v = load(x + r * c + ch)
                let d = mask.apply(load(dy + r * c + ch), x: v, channel: ch)
                return (d, d * ((v - load(mean + ch)) * load(invstd + ch)))
            }
            return
        }
        blockedSums(rows: rows, channels: c, into: sumDy, sumDyXhat) { r, ch in
            let d = load(dy + r * c + ch)
            return (d, d * ((load(x + r * c + ch) - load(mean + ch)) * load(invstd + ch)))
        }
    }

    public static func batchNormInputGradient(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Range<Int>,
        channels c: Int, totalRows m: Int, scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
        invstd: UnsafePointer<Float>, dscale: UnsafePointer<Float>, dbias: UnsafePointer<Float>,
        mask: ActivationMask?, residual: UnsafePointer<Float>?
    ) {
        let inverseM = 1 / Float(m)
        guard c % 16 == 0 else {
            for r in rows {
                let g = dy + r * c, v = x + r * c, out = dx + r * c
                for ch in 0..<c {
                    let d = mask?.apply(g[ch], x: v[ch], channel: ch) ?? g[ch]
                    let xhat = (v[ch] - mean[ch]) * invstd[ch]
                    let result = scale[ch] * invstd[ch] * (d - inverseM * dbias[ch] - xhat * inverseM * dscale[ch])
                    out[ch] = residual.map { $0[r * c + ch] + result } ?? result
                }
            }
            return
        }
        for r in rows {
            let g = dy + r * c, v = x + r * c, out = dx + r * c, res = residual.map { $0 + r * c }
            var ch = 0
            while ch < c {
                let xv = load(v + ch)
                var d = load(g + ch)
                if let mask { d = mask.apply(d, x: xv, channel: ch) }
                let xhat = (xv - load(mean + ch)) * load(invstd + ch)
                let inner = d - inverseM * load(dbias + ch) - xhat * inverseM * load(dscale + ch)
                var result = load(scale + ch) * load(invstd + ch) * inner
                if let res { result = load(res + ch) + result }
                store(result, out + ch)
                ch += 16
            }
        }
    }

    /// The rows are read as a flat stream in periods of lcm(channels, 16) floats, so any channel
    /// count runs on whole 16-lane vectors (lane `i` of a period always holds channel `i %
    /// channels`).
    public static func addChannelSums(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into partial: UnsafeMutablePointer<Double>
    ) {
        let period = lcm(c, 16), rowsPerPeriod = period / c
        let periods = period <= 1024 ? rows.count / rowsPerPeriod : 0
        if periods > 0 {
            withUnsafeTemporaryAllocation(of: Vector16.self, capacity: period / 16) { acc in
                var done = 0
                while done < periods {
                    let batch = min(64, periods - done)
                    acc.initialize(repeating: Vector16(repeating: 0))
                    let base = x + (rows.lowerBound + done * rowsPerPeriod) * c
                    for p in 0..<batch {
                        let src = base + p * period
                        for v in 0..<(period / 16) { acc[v] += load(src + v * 16) }
                    }
                    for v in 0..<(period / 16) {
                        for lane in 0..<16 { partial[(v * 16 + lane) % c] += Double(acc[v][lane]) }
                    }
                    done += batch
                }
            }
        }
        for r in (rows.lowerBound + periods * rowsPerPeriod)..<rows.upperBound {
            let row = x + r * c
            for ch in 0..<c { partial[ch] += Double(row[ch]) }
        }
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return a / x * b
    }

    /// Per-channel sums of two row functions over `rows` (`c` a multiple of 16).
    @inline(__always)
    static func blockedSums(
        rows: Range<Int>, channels c: Int, into first: UnsafeMutablePointer<Double>,
        _ second: UnsafeMutablePointer<Double>,
        _ terms: (Int, Int) -> (Vector16, Vector16)
    ) {
        let blocks = c / 16
        withUnsafeTemporaryAllocation(of: Vector16.self, capacity: 2 * blocks) { acc in
            var r = rows.lowerBound
            while r < rows.upperBound {
                let end = min(rows.upperBound, r + 64)
                acc.initialize(repeating: Vector16(repeating: 0))
                while r < end {
                    for b in 0..<blocks {
                        let (u, v) = terms(r, b * 16)
                        acc[2 * b] += u
                        acc[2 * b + 1] += v
                    }
                    r += 1
                }
                for b in 0..<blocks {
                    for lane in 0..<16 {
                        first[b * 16 + lane] += Double(acc[2 * b][lane])
                        second[b * 16 + lane] += Double(acc[2 * b + 1][lane])
                    }
                }
            }
        }
    }
}

extension ActivationMask {
    @inline(__always)
    func apply(_ d: Vector16, x: Vector16, channel ch: Int) -> Vector16 {
        var v = x
        v *= load(coefficients + ch)
        v += load(coefficients + channels + ch)
        return d.replacing(with: d * slope, where: v .<= 0)
    }

    @inline(__always)
    func apply(_ d: Float, x: Float, channel ch: Int) -> Float {
        var v = x
        v *= coefficients[ch]
        v += coefficients[channels + ch]
        return v <= 0 ? d * slope : d
    }
}
