import Foundation
import ScionKernels
import ScionTestSupport
import ScionTiles
import Testing

/// Each copy of the elementwise, BatchNorm and reduction loops this CPU runs (generic, AVX2,
/// AVX-512) against plain scalar loops; Float results must equal them bit for bit (the loops
/// promise the same operations in the same order), Double sums agree to rounding.
@Suite struct LoopCopyTests {
    static let copies = KernelLoops.runnable.map(\.name)

    static func loops(_ name: String) -> any ElementwiseLoops.Type {
        KernelLoops.runnable.first { $0.name == name }!.loops
    }

    static func reluOf(_ v: Float) -> Float { v < 0 ? 0 : v }

    @Test func theActiveCopyIsTheMicrokernelsOne() {
        #expect(ObjectIdentifier(KernelLoops.active) == ObjectIdentifier(KernelLoops.copy(for: MicrokernelISA.active)))
        #expect(Self.copies.contains("generic"))
    }

    @Test(arguments: copies)
    func epilogueMatchesScalarLoop(copy: String) {
        // 3 rows of 37 channels (two vectors and a tail), row stride 40, residual stride 41.
        let (rows, c, stride, rStride) = (3, 37, 40, 41)
        let x = Harness.random(rows * stride, seed: 1), scale = Harness.random(c, seed: 2)
        let shift = Harness.random(c, seed: 3), residual = Harness.random(rows * rStride, seed: 4)
        var y = [Float](repeating: 0, count: rows * stride)
        y.withUnsafeMutableBufferPointer {
            Self.loops(copy).epilogue(
                $0.baseAddress!, rows: rows, channels: c, stride: stride, scale: scale, shift: shift,
                residual: residual, residualStride: rStride, activation: .relu, input: x)
        }
        for r in 0..<rows {
            for ch in 0..<c {
                let v = x[r * stride + ch] * scale[ch] + shift[ch] + residual[r * rStride + ch]
                #expect(y[r * stride + ch] == Self.reluOf(v), "row \(r) channel \(ch)")
            }
        }
    }

    @Test(arguments: copies)
    func elementwiseAndActivationGradientsMatchScalarLoops(copy: String) {
        let loops = Self.loops(copy), n = 53
        let a = Harness.random(n, seed: 5), b = Harness.random(n, seed: 6), dy = Harness.random(n, seed: 7)
        func run(_ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var y = [Float](repeating: .nan, count: n)
            y.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
            return y
        }
        #expect(run { loops.add(a, b, $0, count: n) } == zip(a, b).map(+))
        #expect(run { loops.mul(a, b, $0, count: n) } == zip(a, b).map(*))
        #expect(run { loops.activate(a, $0, count: n, .leakyRelu(0.2)) } == a.map { $0 < 0 ? $0 * 0.2 : $0 })
        #expect(maxDifference(run { loops.activate(a, $0, count: n, .tanh) }, a.map(tanhf)) == 0)
        let gradients: [(KernelActivation, (Float, Float) -> Float)] = [
            (.none, { g, _ in g }), (.relu, { $1 > 0 ? $0 : $0 * 0 }), (.leakyRelu(0.1), { $1 > 0 ? $0 : $0 * 0.1 }),
            (.sigmoid, { $0 * $1 * (1 - $1) }), (.tanh, { $0 * (1 - $1 * $1) })
        ]
        for (activation, derivative) in gradients {
            let dx = run { loops.activationGradient(activation, dy: dy, y: a, dx: $0, count: n) }
            #expect(dx == zip(dy, a).map(derivative), "\(activation)")
        }
    }

    @Test(arguments: copies)
    func expMatchesExpfAcrossTheFloatRange(copy: String) {
        // Every 16th of a unit from -87 to 88, plus both clamps and zero.
        var xs = Swift.stride(from: Float(-87), through: 88, by: 1.0 / 16).map { $0 }
        xs += [-1000, -87.33654, 0, 88, 1000]
        var worst: Float = 0
        for start in Swift.stride(from: 0, to: xs.count, by: 16) {
            var v = SIMD16<Float>(repeating: 0)
            for i in 0..<16 { v[i] = xs[min(start + i, xs.count - 1)] }
            let e = Self.loops(copy).exp(v)
            for i in 0..<16 {
                let x = min(max(v[i], -87.33654), 88)
                worst = max(worst, abs(e[i] - expf(x)) / expf(x))
            }
        }
        #expect(worst < 3e-7)
        var y = [Float](repeating: 0, count: 2)
        y.withUnsafeMutableBufferPointer { Self.loops(copy).activate([-100, 100], $0.baseAddress!, count: 2, .sigmoid) }
        #expect(y[0] >= 0 && y[0] < 1e-37 && y[1] == 1)
    }

    /// 48 channels (whole vectors) and 19 (the scalar path); rows 5..<138 cross the 64-row flush.
    @Test(arguments: copies, [48, 19])
    func batchNormSumsMatchDoubleLoops(copy: String, channels c: Int) {
        let loops = Self.loops(copy), rows = 5..<138
        let x = Harness.random(138 * c, seed: 8), dy = Harness.random(138 * c, seed: 9)
        let mean = Harness.random(c, seed: 10), invstd = Harness.random(c, seed: 11).map { 1.5 + $0 }
        let coefficients = Harness.random(2 * c, seed: 12)
        var sums = [Double](repeating: .nan, count: 2 * c)
        sums.withUnsafeMutableBufferPointer { loops.channelMoments(x, rows: rows, channels: c, into: $0.baseAddress!) }
        for ch in 0..<c {
            let values = rows.map { Double(x[$0 * c + ch]) }
            #expect(abs(sums[ch] - values.reduce(0, +)) < 1e-4)
            #expect(abs(sums[c + ch] - values.map { $0 * $0 }.reduce(0, +)) < 1e-4)
        }
        coefficients.withUnsafeBufferPointer { k in
            let mask = ActivationMask(coefficients: k.baseAddress!, channels: c, slope: 0.1)
            sums.withUnsafeMutableBufferPointer {
                loops.gradientSums(
                    dy, x, rows: rows, channels: c, mean: mean, invstd: invstd, mask: mask, into: $0.baseAddress!)
            }
        }
        for ch in 0..<c {
            let masked = rows.map { r in
                x[r * c + ch] * coefficients[ch] + coefficients[c + ch] <= 0 ? dy[r * c + ch] * 0.1 : dy[r * c + ch]
            }
            let xhat = rows.map { (x[$0 * c + ch] - mean[ch]) * invstd[ch] }
            #expect(abs(sums[ch] - masked.reduce(0.0) { $0 + Double($1) }) < 1e-4)
            #expect(abs(sums[c + ch] - zip(masked, xhat).reduce(0.0) { $0 + Double($1.0 * $1.1) }) < 1e-4)
        }
    }

    @Test(arguments: copies, [48, 19])
    func batchNormInputGradientMatchesScalarLoop(copy: String, channels c: Int) {
        let rows = 2..<9, m = 40
        let x = Harness.random(9 * c, seed: 13), dy = Harness.random(9 * c, seed: 14)
        let residual = Harness.random(9 * c, seed: 15)
        let p = (0..<5).map { Harness.random(c, seed: 16 + UInt64($0)) }
        let (scale, mean, invstd, dscale, dbias) = (p[0], p[1], p[2].map { 1.5 + $0 }, p[3], p[4])
        var dx = [Float](repeating: 0, count: 9 * c)
        dx.withUnsafeMutableBufferPointer {
            Self.loops(copy).batchNormInputGradient(
                dy, x, $0.baseAddress!, rows: rows, channels: c, totalRows: m, scale: scale, mean: mean,
                invstd: invstd, dscale: dscale, dbias: dbias, mask: nil, residual: residual)
        }
        let inverseM = 1 / Float(m)
        for r in rows {
            for ch in 0..<c {
                let i = r * c + ch, xhat = (x[i] - mean[ch]) * invstd[ch]
                let inner = dy[i] - inverseM * dbias[ch] - xhat * inverseM * dscale[ch]
                #expect(dx[i] == residual[i] + scale[ch] * invstd[ch] * inner, "row \(r) channel \(ch)")
            }
        }
    }

    @Test(arguments: copies, [3, 16, 100, 1100])
    func channelSumsMatchDoubleLoop(copy: String, channels c: Int) {
        // Rows 5..<208: a partial part, with whole periods and a scalar remainder (1,100
        // channels: a period over 1,024 floats, all scalar).
        let rows = 5..<208
        let x = Harness.random(208 * c, seed: UInt64(c))
        var partial = [Double](repeating: 1, count: c)
        partial.withUnsafeMutableBufferPointer {
            Self.loops(copy).addChannelSums(x, rows: rows, channels: c, into: $0.baseAddress!)
        }
        for ch in 0..<c {
            let expected = rows.reduce(1.0) { $0 + Double(x[$1 * c + ch]) }
            #expect(abs(partial[ch] - expected) < 1e-5, "channel \(ch) of \(c)")
        }
    }
}
