import Foundation
import ScionKernels
import ScionTestSupport
import Testing

@Suite struct OtherKernelTests {
    static let pools: [(k: Int, s: Int, p: Int, h: Int, w: Int)] = [
        (2, 2, 0, 8, 8), (3, 2, 1, 7, 9), (3, 1, 1, 5, 5), (2, 1, 0, 3, 4)
    ]

    static func poolGeometry(_ window: (k: Int, s: Int, p: Int, h: Int, w: Int), batch: Int, channels c: Int)
        -> ConvGeometry
    {
        ConvGeometry(
            batch: batch, inChannels: c, inHeight: window.h, inWidth: window.w, outChannels: c,
            outHeight: Harness.out(window.h, window.k, window.s, window.p),
            outWidth: Harness.out(window.w, window.k, window.s, window.p),
            kernelHeight: window.k, kernelWidth: window.k, strideH: window.s, strideW: window.s, padH: window.p,
            padW: window.p)
    }

    @Test(arguments: pools, [1, 3])
    func poolingMatchesReference(window: (k: Int, s: Int, p: Int, h: Int, w: Int), batch: Int) {
        let c = 19
        let g = Self.poolGeometry(window, batch: batch, channels: c)
        let x = Harness.random(g.inputCount, seed: 31)
        let xh = Harness.toNHWC(x, n: batch, c: c, plane: g.inPlane)
        let pool = ThreadPool(threads: 2)
        for (average, includePad) in [(false, true), (true, true), (true, false)] {
            var y = [Float](repeating: .nan, count: batch * c * g.outPlane)
            y.withUnsafeMutableBufferPointer { yp in
                if average {
                    Pooling.average(xh, yp.baseAddress!, g, countIncludePad: includePad, batch: batch, pool: pool)
                } else {
                    Pooling.max(xh, yp.baseAddress!, g, batch: batch, pool: pool)
                }
            }
            let expected =
                average
                ? ReferenceKernels.avgPool2d(x, g, countIncludePad: includePad) : ReferenceKernels.maxPool2d(x, g)
            #expect(maxDifference(Harness.toNCHW(y, n: batch, c: c, plane: g.outPlane), expected) < 1e-5)
        }
    }

    /// The max-pooling gradient against the reference loops, with ties (values on a coarse grid),
    /// -infinity and NaN in the input, over vector and tail channels (37 = 2 x 16 + 5).
    @Test(arguments: pools)
    func maxPoolingGradientMatchesReference(window: (k: Int, s: Int, p: Int, h: Int, w: Int)) {
        let batch = 2, c = 37
        let g = Self.poolGeometry(window, batch: batch, channels: c)
        var x = Harness.random(g.inputCount, seed: 61).map { ($0 * 3).rounded() / 3 }
        for i in stride(from: 5, to: x.count, by: 23) { x[i] = i % 2 == 0 ? -.infinity : .nan }
        let dy = Harness.random(batch * c * g.outPlane, seed: 62)
        let xh = Harness.toNHWC(x, n: batch, c: c, plane: g.inPlane)
        let dyh = Harness.toNHWC(dy, n: batch, c: c, plane: g.outPlane)
        var dx = [Float](repeating: .nan, count: x.count)
        dx.withUnsafeMutableBufferPointer { dxp in
            for n in 0..<batch { PoolingGradient.max(image: n, dy: dyh, x: xh, dx: dxp.baseAddress!, g) }
        }
        let expected = ReferenceKernels.maxPool2dGrad(dy, x, g)
        #expect(maxDifference(Harness.toNCHW(dx, n: batch, c: c, plane: g.inPlane), expected) < 1e-6)
    }

    /// The reference itself, by hand: a 2x2 plane padded (and cropped) with 9.
    @Test func paddingReferenceByHand() {
        let x: [Float] = [1, 2, 3, 4]
        #expect(
            ReferenceKernels.pad(x, planes: 1, height: 2, width: 2, pads: [1, 0, 0, 1], value: 9) == [
                9, 9, 9, 1, 2, 9, 3, 4, 9
            ])
        #expect(ReferenceKernels.pad(x, planes: 1, height: 2, width: 2, pads: [-1, 0, 0, -1], value: 9) == [3])
    }

    @Test(arguments: [[1, 2, 0, 3], [0, 0, 0, 0], [-1, 2, 1, -2], [-2, -1, -1, -3], [2, -3, 0, 4]])
    func paddingMatchesReference(pads: [Int]) {
        let n = 2, c = 5, h = 4, w = 6, oh = h + pads[0] + pads[2], ow = w + pads[1] + pads[3]
        let x = Harness.random(n * c * h * w, seed: 51)
        let xh = Harness.toNHWC(x, n: n, c: c, plane: h * w)
        var y = [Float](repeating: .nan, count: n * c * oh * ow)
        y.withUnsafeMutableBufferPointer {
            Padding.nhwc(xh, $0.baseAddress!, n: n, height: h, width: w, channels: c, pads: pads, value: 0.5)
        }
        let expected = ReferenceKernels.pad(x, planes: n * c, height: h, width: w, pads: pads, value: 0.5)
        #expect(Harness.toNCHW(y, n: n, c: c, plane: oh * ow) == expected, "\(pads)")
    }

    @Test(arguments: [1, 3])
    func globalAverageAndInstanceNormMatchReference(batch: Int) {
        let c = 21, plane = 5 * 7
        let x = Harness.random(batch * c * plane, seed: 41)
        let xh = Harness.toNHWC(x, n: batch, c: c, plane: plane)
        let pool = ThreadPool(threads: 2)
        var gap = [Float](repeating: .nan, count: batch * c)
        gap.withUnsafeMutableBufferPointer {
            Pooling.globalAverage(xh, $0.baseAddress!, plane: plane, channels: c, batch: batch, pool: pool)
        }
        #expect(maxDifference(gap, ReferenceKernels.globalAvgPool(x, plane: plane)) < 1e-5)

        let scale = Harness.random(c, seed: 42), shift = Harness.random(c, seed: 43)
        var y = [Float](repeating: .nan, count: x.count)
        y.withUnsafeMutableBufferPointer {
            Normalization.instance(
                xh, $0.baseAddress!, plane: plane, channels: c, batch: batch, scale: scale, shift: shift, epsilon: 1e-5,
                pool: pool)
        }
        let expected = ReferenceKernels.instanceNorm(
            x, channels: c, plane: plane, scale: scale, bias: shift, epsilon: 1e-5)
        #expect(maxDifference(Harness.toNCHW(y, n: batch, c: c, plane: plane), expected) < 1e-4)
    }

    /// Soft targets, an unlikelihood row (−1 at the label), a row of zeros, and a row whose
    /// unlearned class holds p ≈ 1 (the trapped model's fit of a poison), where `1 − p` computed
    /// by subtraction would keep no digits.
    @Test func crossEntropyWithUnlikelihoodMatchesReference() {
        let k = 4
        let logits: [Float] = [0.3, -1.2, 2.0, 0.1, 1.5, 0.2, -0.7, 0.9, 0.4, 0.4, -0.3, 1.1, 14, -2, -1, -3]
        let target: [Float] = [0.1, 0.7, 0.1, 0.1, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0]
        let rows = logits.count / k
        let value = Losses.crossEntropy(logits: logits, target: target, rows: rows, classes: k)
        // The last row's loss is -log(1 - p_0), p_0 = e^14 / (e^14 + e^-2 + e^-1 + e^-3): about 14.7.
        let others = exp(-2.0) + exp(-1.0) + exp(-3.0)
        let last = -log(others / (exp(14.0) + others))
        let firstThree = ReferenceKernels.crossEntropy(Array(logits[0..<12]), Array(target[0..<12]), classes: k) * 3
        #expect(abs(Double(value) - (Double(firstThree) + last) / 4) < 1e-4)
        var g = [Float](repeating: .nan, count: logits.count)
        g.withUnsafeMutableBufferPointer {
            Losses.crossEntropyGradient(
                logits: logits, target: target, grad: $0.baseAddress!, rows: rows, classes: k, scale: 2)
        }
        let expected = ReferenceKernels.crossEntropyGrad(logits, target, classes: k, scale: 2)
        #expect(maxDifference(Array(g[0..<12]), Array(expected[0..<12])) < 1e-6)
        #expect(Array(g[8..<12]) == [0, 0, 0, 0])
        // The saturated row: a·p_0 at the label, the rest shared by the other classes' odds.
        let p0 = Float(exp(14.0) / (exp(14.0) + others))
        let shares = [exp(-2.0), exp(-1.0), exp(-3.0)].map { Float($0 / others) }
        #expect(maxDifference(Array(g[12..<16]), [2 * p0 / 4] + shares.map { -2 * p0 * $0 / 4 }) < 1e-6)
    }

    /// Sizes around the 16-lane vectors: rows of 3·5 floats (no full vector), 3·32 (the
    /// decoder's), 1·33 and 16·2.
    @Test(arguments: [(2, 3, 4, 5), (2, 3, 6, 32), (1, 1, 3, 33), (3, 16, 2, 2)])
    func totalVariationAndMeanErrorMatchReference(shape: (n: Int, c: Int, h: Int, w: Int)) {
        let (n, c, h, w) = shape
        let x = Harness.random(n * c * h * w, seed: 61), t = Harness.random(x.count, seed: 62)
        let xh = Harness.toNHWC(x, n: n, c: c, plane: h * w)
        let value = Losses.totalVariation(xh, n: n, h: h, w: w, c: c)
        #expect(abs(value - ReferenceKernels.totalVariation(x, n: n, c: c, h: h, w: w)) < 1e-5)
        var g = [Float](repeating: .nan, count: x.count)
        g.withUnsafeMutableBufferPointer {
            Losses.totalVariationGradient(xh, $0.baseAddress!, n: n, h: h, w: w, c: c, scale: 1.5)
        }
        let expected = ReferenceKernels.totalVariationGrad(x, n: n, c: c, h: h, w: w, scale: 1.5)
        #expect(maxDifference(Harness.toNCHW(g, n: n, c: c, plane: h * w), expected) < 1e-6)
        for squared in [true, false] {
            let mean =
                zip(x, t).reduce(0.0) { $0 + Double(squared ? ($1.0 - $1.1) * ($1.0 - $1.1) : abs($1.0 - $1.1)) }
                / Double(x.count)
            #expect(abs(Double(Losses.meanError(x, t, count: x.count, squared: squared)) - mean) < 1e-6)
            g.withUnsafeMutableBufferPointer {
                Losses.meanErrorGradient(x, t, $0.baseAddress!, count: x.count, squared: squared, scale: 2)
            }
            let f = 2 / Float(x.count)
            #expect(
                maxDifference(g, zip(x, t).map { squared ? 2 * f * ($0 - $1) : ($0 > $1 ? f : $0 < $1 ? -f : 0) })
                    < 1e-7)
        }
    }

    @Test func elementwiseAndEpilogueMatchScalarLoops() {
        let n = 53
        let a = Harness.random(n, seed: 51), b = Harness.random(n, seed: 52)
        var y = [Float](repeating: 0, count: n)
        y.withUnsafeMutableBufferPointer { Elementwise.add(a, b, $0.baseAddress!, count: n) }
        #expect(y == zip(a, b).map(+))
        y.withUnsafeMutableBufferPointer { Elementwise.mul(a, b, $0.baseAddress!, count: n) }
        #expect(y == zip(a, b).map(*))
        for (act, f) in [
            (KernelActivation.relu, { (x: Float) in max(x, 0) }), (.leakyRelu(0.2), { $0 < 0 ? 0.2 * $0 : $0 })
        ] {
            y.withUnsafeMutableBufferPointer { Elementwise.activate(a, $0.baseAddress!, count: n, act) }
            #expect(y == a.map(f))
        }
        y.withUnsafeMutableBufferPointer { Elementwise.activate(a, $0.baseAddress!, count: n, .sigmoid) }
        #expect(maxDifference(y, ReferenceKernels.sigmoid(a)) < 1e-6)
        let dy = Harness.random(n, seed: 56), sig = ReferenceKernels.sigmoid(a)
        for (kind, f) in [
            (ActivationGradient.Kind.sigmoid, { (g: Float, v: Float) in g * v * (1 - v) }),
            (.tanh, { $0 * (1 - $1 * $1) })
        ] {
            y.withUnsafeMutableBufferPointer {
                ActivationGradient.apply(kind, dy: dy, y: sig, dx: $0.baseAddress!, count: n)
            }
            #expect(y == zip(dy, sig).map(f))
        }
        // Per-channel affine over 3 rows of 19 channels.
        let scale = Harness.random(19, seed: 53), shift = Harness.random(19, seed: 54)
        var rows = Harness.random(57, seed: 55)
        let expected = rows.indices.map { rows[$0] * scale[$0 % 19] + shift[$0 % 19] }
        rows.withUnsafeMutableBufferPointer {
            Epilogue.apply(
                $0.baseAddress!, rows: 3, channels: 19, stride: 19, scale: scale, shift: shift, activation: .none)
        }
        #expect(maxDifference(rows, expected) < 1e-6)
    }

    @Test func softmaxRowsSumToOne() {
        let x = Harness.random(3 * 10, seed: 61)
        var y = [Float](repeating: 0, count: 30)
        y.withUnsafeMutableBufferPointer { Normalization.softmax(x, $0.baseAddress!, rows: 3, width: 10) }
        #expect(maxDifference(y, ReferenceKernels.softmax(x, extent: 10, inner: 1)) < 1e-6)
    }

    @Test func threadPoolVisitsEveryIndexOnce() {
        let pool = ThreadPool(threads: 3)
        for count in [1, 2, 7, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            for _ in 0..<20 { pool.parallelFor(count) { i, _ in hits[i] += 1 } }
            #expect((0..<count).allSatisfy { hits[$0] == 20 })
            hits.deallocate()
        }
    }
}
