import Foundation
import ScionBF16
import ScionKernels
import ScionTestSupport
import Testing

/// The BF16 path (`--precision bf16`) on CPUs with AVX-512 BF16; skipped elsewhere. Its products
/// are exact where the inputs are bf16 values already, so they are checked bit for bit; whole
/// convolutions round their inputs, so they are checked against the FP32 reference within a
/// bound on that rounding.
@Suite(.enabled(if: Precision.bf16Available, "the CPU has no AVX-512 BF16"))
struct BF16KernelTests {
    /// Ties go to even, in order, over a 32-float step and a 16-float tail.
    @Test func roundingToPairsIsToNearestEven() {
        let ulp: Float = 1.0 / 128  // of bf16 at 1
        var values = [Float](repeating: 0, count: 48)
        values[0] = 1 + ulp / 2  // a tie, to the even 1
        values[1] = 1 + 1.5 * ulp  // a tie, to the even 1 + 2 ulp
        values[2] = 1 + 0.6 * ulp  // above the tie, up
        values[33] = -3 - 0.4 * 2 * ulp  // below the tie at 2 ulp of 2, down to -3
        values.withUnsafeMutableBufferPointer { BF16Products.roundToPairs($0.baseAddress!, count: 48) }
        let words = values.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self).prefix(24)) }
        let halves = words.flatMap { [Float(bitPattern: ($0 & 0xffff) << 16), Float(bitPattern: $0 & 0xffff_0000)] }
        #expect(halves[0] == 1 && halves[1] == 1 + 2 * ulp && halves[2] == 1 + ulp && halves[33] == -3)
        #expect(halves.enumerated().allSatisfy { [0, 1, 2, 33].contains($0.offset) || $0.element == 0 })
    }

    /// Integer inputs are bf16 values and their products and sums are exact in FP32: the
    /// products must equal a plain loop's, over a 32- and a 16-channel block and 13 pixels.
    @Test func productsMatchAPlainLoopExactly() {
        let c = 48, o = 48, pixels = 13, rows = 16
        let x = (0..<rows * c).map { Float(($0 * 7) % 9 - 4) }, w = (0..<c * o).map { Float(($0 * 5) % 7 - 3) }
        var expected = [Float](repeating: 0, count: pixels * o)
        for p in 0..<pixels {
            for co in 0..<o { expected[p * o + co] = (0..<c).reduce(0) { $0 + x[p * c + $1] * w[$1 * o + co] } }
        }
        // Weights as BF16Products reads them: per block, [pair][block] words.
        var packed = [UInt32](repeating: 0, count: c / 2 * o)
        var co0 = 0
        while co0 < o {
            let block = BF16Products.blockSize(remaining: o - co0)
            for j in 0..<c / 2 {
                for l in 0..<block {
                    let low = w[2 * j * o + co0 + l].bitPattern >> 16,
                        high = w[(2 * j + 1) * o + co0 + l].bitPattern >> 16
                    packed[co0 * c / 2 + j * block + l] = low | high << 16
                }
            }
            co0 += block
        }
        var input = x, out = [Float](repeating: .nan, count: pixels * o)
        input.withUnsafeMutableBufferPointer { xp in
            BF16Products.roundToPairs(xp.baseAddress!, count: rows * c)
            xp.baseAddress!.withMemoryRebound(to: UInt32.self, capacity: rows * c / 2) { words in
                BF16Products.multiply(
                    words, pairs: c / 2, weights: packed, outChannels: o, pixels: pixels, out: &out, outStride: o)
            }
        }
        #expect(out == expected)
    }

    /// Winograd layers in BF16 against the FP32 reference, both tile sizes, with a residual. The
    /// error is rounding the transformed tiles and weights to 8 bits of mantissa, magnified by
    /// the output transform: measured 0.4 % (F(2x2, 3x3)) and 2.3 % (F(4x4, 3x3), whose transforms
    /// have larger coefficients) of the outputs' RMS, 0.4 % and 7 % of the largest output. The
    /// bounds sit above those, and the error must not be zero (the BF16 products ran).
    @Test(arguments: [2, 4])
    func winogradLayersStayCloseToFP32(tile: Int) throws {
        let c = ConvolutionKernelTests.Case(
            n: 3, cin: 32, cout: 48, h: 9, w: 11, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1)
        let g = ConvolutionKernelTests().geometry(c)
        let x = Harness.random(g.inputCount, seed: 21), w = Harness.random(c.cout * c.cin * 9, seed: 22)
        let b = Harness.random(c.cout, seed: 23), residual = Harness.random(g.outputCount, seed: 24)
        let expected = ReferenceKernels.add(ReferenceKernels.conv2d(x, w, b, g), residual)
        let xh = Harness.toNHWC(x, n: c.n, c: c.cin, plane: g.inPlane)
        let rh = Harness.toNHWC(residual, n: c.n, c: c.cout, plane: g.outPlane)
        var outputs: [[Float]] = []
        for precision in Precision.allCases {
            let kernel = Conv2D(
                geometry: g, weight: w, bias: b, activation: .none, winogradTile: tile, precision: precision)
            try #require(kernel.precision == precision && kernel.algorithm.winogradTile == tile)
            var y = [Float](repeating: .nan, count: g.outputCount)
            var scratch = [Float](repeating: 0, count: kernel.workspacePerThread * 2)
            y.withUnsafeMutableBufferPointer { yp in
                scratch.withUnsafeMutableBufferPointer { sp in
                    kernel.run(
                        x: xh, y: yp.baseAddress!, residual: rh, batch: c.n, pool: ThreadPool(threads: 2),
                        workspace: sp.baseAddress!)
                }
            }
            outputs.append(Harness.toNCHW(y, n: c.n, c: c.cout, plane: g.outPlane))
        }
        let largest = expected.map(abs).max() ?? 1, scale = rootMeanSquare(expected)
        let fp32Error = maxDifference(outputs[0], expected), bf16Error = maxDifference(outputs[1], expected)
        let bf16RMS = rootMeanSquare(zip(outputs[1], expected).map { $0 - $1 })
        let (rmsBound, maxBound): (Float, Float) = tile == 2 ? (0.01, 0.02) : (0.04, 0.1)
        #expect(fp32Error < 1e-4)
        #expect(bf16RMS < rmsBound * scale && bf16Error < maxBound * largest, "tile \(tile)")
        #expect(bf16Error > 10 * fp32Error)
    }

    /// After `repack` (an optimizer step) a layer must compute what a layer built on the new
    /// weights computes, bit for bit, in its F(4x4, 3x3) plan and in the F(2x2, 3x3) one it keeps
    /// for small batches (both sets of bf16 pairs refreshed). The small batch must run exactly as
    /// a layer built for F(2x2, 3x3) does.
    @Test func repackRefreshesBothSetsOfPairs() throws {
        let c = ConvolutionKernelTests.Case(
            n: 4, cin: 32, cout: 32, h: 8, w: 8, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1)
        let g = ConvolutionKernelTests().geometry(c)
        let w1 = Harness.random(c.cout * c.cin * 9, seed: 31), w2 = Harness.random(c.cout * c.cin * 9, seed: 32)
        let b = Harness.random(c.cout, seed: 33), x = Harness.random(g.inputCount, seed: 34)
        let updated = Conv2D(geometry: g, weight: w1, bias: b, activation: .relu, precision: .bf16)
        updated.repack(weight: w2, bias: b)
        let fresh = Conv2D(geometry: g, weight: w2, bias: b, activation: .relu, precision: .bf16)
        let small = Conv2D(geometry: g, weight: w2, bias: b, activation: .relu, winogradTile: 2, precision: .bf16)
        try #require(updated.algorithm.winogradTile == 4 && updated.precision == .bf16)
        // Booleans first: the arrays would fill the failure message.
        for batch in [1, 4] {
            let y = Self.run(updated, x, batch: batch)
            let matchesFresh = y == Self.run(fresh, x, batch: batch)
            #expect(matchesFresh, "batch \(batch)")
            let matchesSmallLayer = batch != 1 || y == Self.run(small, x, batch: 1)
            #expect(matchesSmallLayer)
        }
        let plansDiffer =
            Self.run(updated, x, batch: 1) != Array(Self.run(updated, x, batch: 4).prefix(g.outputCount / 4))
        #expect(plansDiffer, "batch 1 must run the small-batch plan, batch 4 the F(4x4, 3x3) one")
    }

    /// `kernel` on the first `batch` images of `x` (NHWC), two threads.
    static func run(_ kernel: Conv2D, _ x: [Float], batch: Int) -> [Float] {
        let g = kernel.geometry
        var y = [Float](repeating: .nan, count: batch * g.outPlane * g.outChannels)
        var scratch = [Float](repeating: 0, count: kernel.workspacePerThread * 2)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                kernel.run(
                    x: x, y: yp.baseAddress!, residual: nil, batch: batch, pool: ThreadPool(threads: 2),
                    workspace: sp.baseAddress!)
            }
        }
        return y
    }

    func rootMeanSquare(_ v: [Float]) -> Float { (v.reduce(0) { $0 + $1 * $1 } / Float(max(1, v.count))).squareRoot() }
}

/// Where BF16 does not run (no AVX-512 BF16, `SCION_KERNELS` turning it off, or a layer that is
/// not Winograd) asking for it changes nothing: the layer says FP32 and computes FP32's bits.
/// Runs on every machine.
@Suite struct BF16FallbackTests {
    @Test(arguments: [(k: 3, stride: 2), (k: 1, stride: 1), (k: 3, stride: 1)])
    func unsupportedLayersRunFP32(k: Int, stride: Int) throws {
        let c = ConvolutionKernelTests.Case(
            n: 2, cin: 32, cout: 32, h: 8, w: 8, k: k, stride: stride, pad: k / 2, dilation: 1, groups: 1)
        let g = ConvolutionKernelTests().geometry(c)
        let w = Harness.random(c.cout * c.cin * k * k, seed: 41), x = Harness.random(g.inputCount, seed: 42)
        let asked = Conv2D(geometry: g, weight: w, bias: nil, activation: .none, precision: .bf16)
        let fp32 = Conv2D(geometry: g, weight: w, bias: nil, activation: .none)
        let runsBF16 = Precision.bf16Available && asked.algorithm.winogradTile != nil
        #expect(asked.precision == (runsBF16 ? .bf16 : .fp32))
        let identical = BF16KernelTests.run(asked, x, batch: 2) == BF16KernelTests.run(fp32, x, batch: 2)
        #expect(runsBF16 || identical)
    }
}
