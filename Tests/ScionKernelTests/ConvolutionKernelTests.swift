import Foundation
import ScionKernels
import ScionTestSupport
import Testing

/// Every fast kernel against its naive reference, on awkward shapes: stride 2, padding,
/// dilation, groups, channel counts that are not multiples of 16, batch 1 and 3, 1 to 3 threads.
@Suite struct ConvolutionKernelTests {
    struct Case: CustomStringConvertible, Sendable {
        var n, cin, cout, h, w, k, stride, pad, dilation, groups: Int
        var description: String { "n\(n) \(cin)->\(cout) \(h)x\(w) k\(k) s\(stride) p\(pad) d\(dilation) g\(groups)" }
    }

    static let cases: [Case] = [
        Case(n: 1, cin: 3, cout: 16, h: 9, w: 11, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(n: 3, cin: 5, cout: 7, h: 8, w: 8, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1),
        Case(n: 3, cin: 17, cout: 20, h: 7, w: 6, k: 1, stride: 1, pad: 0, dilation: 1, groups: 1),
        Case(n: 1, cin: 16, cout: 32, h: 10, w: 10, k: 1, stride: 2, pad: 0, dilation: 1, groups: 1),
        Case(n: 2, cin: 6, cout: 9, h: 12, w: 9, k: 5, stride: 2, pad: 2, dilation: 1, groups: 1),
        Case(n: 3, cin: 4, cout: 6, h: 9, w: 9, k: 3, stride: 1, pad: 2, dilation: 2, groups: 1),
        Case(n: 3, cin: 4, cout: 6, h: 8, w: 8, k: 3, stride: 1, pad: 1, dilation: 1, groups: 2),
        Case(n: 2, cin: 8, cout: 8, h: 8, w: 7, k: 3, stride: 2, pad: 1, dilation: 1, groups: 8),
        Case(n: 1, cin: 3, cout: 5, h: 4, w: 4, k: 7, stride: 2, pad: 3, dilation: 1, groups: 1),
        // Shapes the AVX-512 direct kernels take (output channels a multiple of 16): widths not
        // a multiple of 8, 48 channels (a 32 and a 16 block), stride 2, no padding, wide kernels.
        Case(n: 3, cin: 16, cout: 16, h: 10, w: 13, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(n: 2, cin: 24, cout: 48, h: 9, w: 9, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1),
        Case(n: 1, cin: 5, cout: 64, h: 7, w: 20, k: 3, stride: 1, pad: 0, dilation: 1, groups: 1),
        Case(n: 3, cin: 32, cout: 32, h: 6, w: 6, k: 5, stride: 1, pad: 2, dilation: 1, groups: 1),
        Case(n: 2, cin: 16, cout: 32, h: 8, w: 8, k: 1, stride: 1, pad: 0, dilation: 1, groups: 1),
        // Shapes Winograd takes: odd output sizes (partial tiles), 48 channels, no padding and
        // padding 2, and 12x8 outputs at batch 3 (18 F(4x4, 3x3) tiles: the default).
        Case(n: 3, cin: 32, cout: 48, h: 9, w: 11, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(n: 3, cin: 32, cout: 32, h: 12, w: 8, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(n: 1, cin: 64, cout: 32, h: 10, w: 12, k: 3, stride: 1, pad: 0, dilation: 1, groups: 1),
        Case(n: 2, cin: 32, cout: 32, h: 7, w: 7, k: 3, stride: 1, pad: 2, dilation: 1, groups: 1),
        // 7x7 outputs (the small CNN's last blocks): F(4x4, 3x3) on partial tiles at batch 4.
        Case(n: 4, cin: 32, cout: 48, h: 7, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        // Direct layers whose weights outgrow L2 (over 262,144 floats), on batches of at most 8
        // output rows: run block by block over groups of rows (a batch of one: the output channels
        // split between chunks; 6 rows across two images; stride 2 with 48 output channels, a
        // block of 16 at the end).
        Case(n: 1, cin: 512, cout: 64, h: 4, w: 4, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(n: 2, cin: 512, cout: 64, h: 3, w: 5, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(n: 2, cin: 640, cout: 48, h: 7, w: 7, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1),
        // Strided layers whose input gradient runs phase by phase on the direct kernels (16
        // input channels): odd sizes, so the phases have different output counts.
        Case(n: 2, cin: 16, cout: 32, h: 9, w: 11, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1)
    ]

    func geometry(_ c: Case, transposed: Bool = false) -> ConvGeometry {
        let oh =
            transposed
            ? (c.h - 1) * c.stride - 2 * c.pad + c.dilation * (c.k - 1) + 1
            : Harness.out(c.h, c.k, c.stride, c.pad, c.dilation)
        let ow =
            transposed
            ? (c.w - 1) * c.stride - 2 * c.pad + c.dilation * (c.k - 1) + 1
            : Harness.out(c.w, c.k, c.stride, c.pad, c.dilation)
        return ConvGeometry(
            batch: c.n, inChannels: c.cin, inHeight: c.h, inWidth: c.w, outChannels: c.cout, outHeight: oh,
            outWidth: ow,
            kernelHeight: c.k, kernelWidth: c.k, strideH: c.stride, strideW: c.stride, padH: c.pad, padW: c.pad,
            dilationH: c.dilation, dilationW: c.dilation, groups: c.groups)
    }

    @Test(arguments: cases, [1, 2, 3])
    func conv2dMatchesReference(c: Case, threads: Int) {
        for (direct, winograd, tile) in Self.algorithms {
            checkConv2d(c, threads: threads, allowDirect: direct, allowWinograd: winograd, winogradTile: tile)
        }
    }

    /// Each algorithm a layer may run: Winograd with the default tile, F(2x2, 3x3) and F(4x4,
    /// 3x3) forced (partial tiles included), direct, im2col + sgemm.
    static let algorithms: [(direct: Bool, winograd: Bool, tile: Int?)] = [
        (true, true, nil), (true, true, 2), (true, true, 4), (true, false, nil), (false, false, nil)
    ]

    func checkConv2d(_ c: Case, threads: Int, allowDirect: Bool, allowWinograd: Bool, winogradTile: Int?) {
        let g = geometry(c)
        let x = Harness.random(g.inputCount, seed: 1)
        let w = Harness.random(c.cout * c.cin / c.groups * c.k * c.k, seed: 2)
        let b = Harness.random(c.cout, seed: 3)
        let residual = Harness.random(g.outputCount, seed: 4)
        var expected = ReferenceKernels.conv2d(x, w, b, g)
        expected = ReferenceKernels.add(expected, residual).map { $0 < 0 ? 0.1 * $0 : $0 }
        let kernel = Conv2D(
            geometry: g, weight: w, bias: b, activation: .leakyRelu(0.1), allowDirect: allowDirect,
            allowWinograd: allowWinograd, winogradTile: winogradTile)
        let pool = ThreadPool(threads: threads)
        let xh = Harness.toNHWC(x, n: c.n, c: c.cin, plane: g.inPlane)
        let rh = Harness.toNHWC(residual, n: c.n, c: c.cout, plane: g.outPlane)
        var y = [Float](repeating: .nan, count: g.outputCount)
        var scratch = [Float](repeating: 0, count: max(1, kernel.workspacePerThread * threads))
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                kernel.run(x: xh, y: yp.baseAddress!, residual: rh, batch: c.n, pool: pool, workspace: sp.baseAddress!)
            }
        }
        #expect(
            maxDifference(Harness.toNCHW(y, n: c.n, c: c.cout, plane: g.outPlane), expected)
                < Self.tolerance(expected), "\(c) \(kernel.algorithm.name) \(kernel.algorithm.winogradTile ?? 0)")
        if let winogradTile, kernel.algorithm.name == "winograd" {
            #expect(kernel.algorithm.winogradTile == winogradTile)
        }
    }

    /// On an AVX-512 or AVX2 machine the direct and Winograd kernels must really run where they
    /// apply, or the tests above would only ever check sgemm. (`make test` runs this suite again
    /// with `SCION_KERNELS=avx2` on AVX-512 machines, so both compiled copies are checked.)
    @Test func directKernelsRunWhereTheyApply() {
        for c in Self.cases {
            let g = geometry(c)
            let w = [Float](repeating: 0, count: c.cout * c.cin / c.groups * c.k * c.k)
            let eligible = c.groups == 1 && c.dilation == 1 && c.cout % 16 == 0
            let winograd =
                c.k == 3 && c.stride == 1 && c.dilation == 1 && c.groups == 1 && c.cin % 16 == 0 && c.cout % 16 == 0
                && (g.outHeight + 1) / 2 * ((g.outWidth + 1) / 2) >= 16 && WinogradConvPlan.enabled
            let kernel = Conv2D(geometry: g, weight: w, bias: nil, activation: .none)
            let directApplies = eligible && DirectConvPlan.cpuSupported
            #expect(kernel.algorithm.name == (winograd ? "winograd" : directApplies ? "direct" : "gemm"), "\(c)")
            // F(4x4, 3x3) where the batch has 16 of its tiles or more (partial ones counted),
            // F(2x2, 3x3) elsewhere.
            let enoughTiles = c.n * ((g.outHeight + 3) / 4) * ((g.outWidth + 3) / 4) >= 16
            #expect(kernel.algorithm.winogradTile == (winograd ? (enoughTiles ? 4 : 2) : nil), "\(c)")
            let direct = Conv2D(geometry: g, weight: w, bias: nil, activation: .none, allowWinograd: false)
            #expect(direct.algorithm.name == (directApplies ? "direct" : "gemm"), "\(c)")
            let generic = Conv2D(geometry: g, weight: w, bias: nil, activation: .none, allowDirect: false)
            #expect(generic.algorithm.name == "gemm")
        }
    }

    @Test func microkernelCopyFollowsTheCPUAndTheEnvironment() {
        #expect(MicrokernelISA.choose(environment: "", hasAVX512: true, hasAVX2: true) == .avx512)
        #expect(MicrokernelISA.choose(environment: "", hasAVX512: false, hasAVX2: true) == .avx2)
        #expect(MicrokernelISA.choose(environment: "", hasAVX512: false, hasAVX2: false) == nil)
        #expect(MicrokernelISA.choose(environment: "AVX2", hasAVX512: true, hasAVX2: true) == .avx2)
        #expect(MicrokernelISA.choose(environment: "avx2, direct", hasAVX512: true, hasAVX2: true) == .avx2)
        #expect(MicrokernelISA.choose(environment: "generic", hasAVX512: true, hasAVX2: true) == nil)
        #expect(MicrokernelISA.choose(environment: "avx2", hasAVX512: false, hasAVX2: false) == nil)
    }

    @Test(arguments: cases, [1, 3])
    func convWeightGradientMatchesReference(c: Case, threads: Int) {
        let g = geometry(c)
        let x = Harness.random(g.inputCount, seed: 11), dy = Harness.random(g.outputCount, seed: 12)
        let expected = ReferenceKernels.conv2dGradWeight(x, dy, g)
        let xh = Harness.toNHWC(x, n: c.n, c: c.cin, plane: g.inPlane),
            dyh = Harness.toNHWC(dy, n: c.n, c: c.cout, plane: g.outPlane)
        for (direct, winograd, tile) in Self.algorithms {
            let kernel = ConvWeightGradient(
                geometry: g, allowDirect: direct, allowWinograd: winograd, winogradTile: tile)
            var scratch = [Float](repeating: .nan, count: kernel.workspaceCount(parts: threads))
            var dw = [Float](repeating: .nan, count: expected.count), db = [Float](repeating: .nan, count: c.cout)
            // The bias gradient (channel sums of dy) rides along on every other check.
            let withBias = threads == 3
            scratch.withUnsafeMutableBufferPointer { sp in
                for t in 0..<threads {
                    kernel.accumulate(
                        part: t, parts: threads, x: xh, dy: dyh, batch: c.n, workspace: sp.baseAddress!,
                        withBias: withBias)
                }
                dw.withUnsafeMutableBufferPointer { w in
                    db.withUnsafeMutableBufferPointer {
                        kernel.finish(
                            parts: threads, workspace: sp.baseAddress!, dw: w.baseAddress!,
                            db: withBias ? $0.baseAddress! : nil)
                    }
                }
            }
            #expect(
                maxDifference(dw, expected) < 1e-3 * max(1, Float(g.outPlane * c.n) / 64),
                "\(c) \(kernel.algorithm.name) \(kernel.algorithm.winogradTile ?? 0)")
            if withBias {
                let sums = ReferenceKernels.channelSum(dy, channels: c.cout, plane: g.outPlane)
                #expect(maxDifference(db, sums) < 1e-4 * Float(g.outPlane * c.n), "\(c) bias, \(kernel.algorithm.name)")
            }
            if direct && winograd && tile == nil {
                let expected = WinogradConvPlan.enabled && WinogradConvPlan(g) != nil && min(c.cin, c.cout) >= 32
                #expect((kernel.algorithm.name == "winograd") == expected, "\(c)")
            }
        }
    }

    @Test(arguments: cases, [1, 2])
    func convInputGradientMatchesReference(c: Case, threads: Int) {
        let g = geometry(c)
        let dy = Harness.random(g.outputCount, seed: 13),
            w = Harness.random(c.cout * c.cin / c.groups * c.k * c.k, seed: 14)
        // dx is the transposed convolution of dy with the same weights.
        let t = ConvGeometry(
            batch: c.n, inChannels: c.cout, inHeight: g.outHeight, inWidth: g.outWidth, outChannels: c.cin,
            outHeight: c.h, outWidth: c.w,
            kernelHeight: c.k, kernelWidth: c.k, strideH: c.stride, strideW: c.stride, padH: c.pad, padW: c.pad,
            dilationH: c.dilation, dilationW: c.dilation, groups: c.groups)
        let expected = ReferenceKernels.convTranspose2d(dy, w, nil, t)
        let dyh = Harness.toNHWC(dy, n: c.n, c: c.cout, plane: g.outPlane)
        for direct in [true, false] {
            let kernel = ConvInputGradient(geometry: g, weight: w, allowDirect: direct)
            // Repacking from other weights and back must give the same result.
            kernel.repack(weight: Harness.random(w.count, seed: 99))
            kernel.repack(weight: w)
            var scratch = [Float](repeating: .nan, count: max(1, kernel.workspacePerThread * threads))
            var dx = [Float](repeating: .nan, count: g.inputCount)
            let chunks = kernel.chunking(batch: c.n, threads: threads)
            scratch.withUnsafeMutableBufferPointer { sp in
                dx.withUnsafeMutableBufferPointer { xp in
                    ThreadPool(threads: threads).parallelFor(chunks.count) { chunk, worker in
                        kernel.compute(
                            chunk: chunk, of: chunks, dy: dyh, dx: xp.baseAddress!, worker: worker,
                            workspace: sp.baseAddress!)
                    }
                }
            }
            #expect(
                maxDifference(Harness.toNCHW(dx, n: c.n, c: c.cin, plane: g.inPlane), expected)
                    < Self.tolerance(expected),
                "\(c) direct \(kernel.isDirect)")
            if direct {
                #expect(
                    kernel.isDirect
                        == (DirectConvPlan.cpuSupported && c.stride == 1 && c.dilation == 1 && c.groups == 1
                            && c.cin % 16 == 0 && c.pad < c.k))
            }
        }
    }

    /// Winograd's output transform applies bias and ReLU-family activations itself, with or
    /// without a residual; other activations run as a separate epilogue. Each against the
    /// reference on a layer with partial tiles, for both tile sizes.
    @Test(
        arguments: [KernelActivation.none, .relu, .leakyRelu(0.2), .sigmoid],
        [(false, 2), (true, 2), (false, 4), (true, 4)])
    func winogradEpilogues(activation: KernelActivation, residualAndTile: (Bool, Int)) throws {
        let (withResidual, tile) = residualAndTile
        let c = Case(n: 2, cin: 16, cout: 32, h: 9, w: 11, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1)
        let g = geometry(c)
        let x = Harness.random(g.inputCount, seed: 8), w = Harness.random(c.cout * c.cin * 9, seed: 9),
            b = Harness.random(c.cout, seed: 10)
        let residual = Harness.random(g.outputCount, seed: 11)
        var expected = ReferenceKernels.conv2d(x, w, b, g)
        if withResidual { expected = ReferenceKernels.add(expected, residual) }
        expected = expected.map { v in
            switch activation {
            case .relu: max(v, 0)
            case .leakyRelu(let slope): v < 0 ? v * slope : v
            case .sigmoid: 1 / (1 + expf(-v))
            default: v
            }
        }
        let kernel = Conv2D(geometry: g, weight: w, bias: b, activation: activation, winogradTile: tile)
        try #require(kernel.algorithm.winogradTile == tile || !WinogradConvPlan.enabled)
        var y = [Float](repeating: .nan, count: g.outputCount)
        var scratch = [Float](repeating: 0, count: kernel.workspacePerThread * 2)
        let xh = Harness.toNHWC(x, n: c.n, c: c.cin, plane: g.inPlane),
            rh = Harness.toNHWC(residual, n: c.n, c: c.cout, plane: g.outPlane)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                kernel.run(
                    x: xh, y: yp.baseAddress!, residual: withResidual ? rh : nil, batch: c.n,
                    pool: ThreadPool(threads: 2), workspace: sp.baseAddress!)
            }
        }
        #expect(
            maxDifference(Harness.toNCHW(y, n: c.n, c: c.cout, plane: g.outPlane), expected) < 1e-4,
            "\(activation) residual \(withResidual) tile \(tile)")
    }

    /// A layer of 8x8 outputs built for batch 8 runs F(4x4, 3x3) (32 tiles), but a batch below 4
    /// (under 16 tiles) runs F(2x2, 3x3) with its own packed weights; both against the reference.
    @Test(arguments: [1, 3, 4, 8])
    func smallBatchesOfSmallImagesRunF2x2(batch: Int) throws {
        let built = Case(n: 8, cin: 32, cout: 32, h: 8, w: 8, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1)
        var run = built
        run.n = batch
        let w = Harness.random(32 * 32 * 9, seed: 21), b = Harness.random(32, seed: 22)
        let kernel = Conv2D(geometry: geometry(built), weight: w, bias: b, activation: .relu)
        try #require(WinogradConvPlan.enabled && !MicrokernelISA.winograd4Disabled)
        #expect(kernel.algorithm.winogradTile == 4)
        let g = geometry(run)
        let x = Harness.random(g.inputCount, seed: 23)
        let expected = ReferenceKernels.conv2d(x, w, b, g).map { max($0, 0) }
        var y = [Float](repeating: .nan, count: g.outputCount)
        var scratch = [Float](repeating: 0, count: kernel.workspacePerThread * 2)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                kernel.run(
                    x: Harness.toNHWC(x, n: batch, c: 32, plane: 64), y: yp.baseAddress!, residual: nil, batch: batch,
                    pool: ThreadPool(threads: 2), workspace: sp.baseAddress!)
            }
        }
        #expect(maxDifference(Harness.toNCHW(y, n: batch, c: 32, plane: 64), expected) < 1e-4)
        #expect(kernel.chunking(batch: batch, threads: 2).total == batch * (batch < 4 ? 4 : 2), "tile rows")
    }

    /// In place: the residual is the output buffer (direct and Winograd layers).
    @Test(arguments: [cases[1], cases[14], cases[15]])
    func conv2dResidualMayBeTheOutputBuffer(c: Case) {
        let g = geometry(c)
        let x = Harness.random(g.inputCount, seed: 5), w = Harness.random(c.cout * c.cin * 9, seed: 6)
        let residual = Harness.random(g.outputCount, seed: 7)
        let expected = ReferenceKernels.add(ReferenceKernels.conv2d(x, w, nil, g), residual)
        let kernel = Conv2D(geometry: g, weight: w, bias: nil, activation: .none)
        var y = Harness.toNHWC(residual, n: c.n, c: c.cout, plane: g.outPlane)
        var scratch = [Float](repeating: 0, count: kernel.workspacePerThread * 2)
        let xh = Harness.toNHWC(x, n: c.n, c: c.cin, plane: g.inPlane)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                kernel.run(
                    x: xh, y: yp.baseAddress!, residual: UnsafePointer(yp.baseAddress!), batch: c.n,
                    pool: ThreadPool(threads: 2), workspace: sp.baseAddress!)
            }
        }
        let got = Harness.toNCHW(y, n: c.n, c: c.cout, plane: g.outPlane)
        #expect(maxDifference(got, expected) < Self.tolerance(expected))
    }

    /// 1e-4, or 2e-5 of the largest output where outputs are large: rounding grows with the
    /// output (sums of 4,608 terms on the 512-channel layers; F(4x4, 3x3)'s transforms multiply
    /// by up to 8 and 1/24), about 7e-6 of it on these layers. A wrong kernel misses by a whole
    /// term, far above either.
    static func tolerance(_ expected: [Float]) -> Float {
        max(1e-4, 2e-5 * expected.map(abs).max()!)
    }

    @Test(
        arguments: [
            Case(n: 1, cin: 64, cout: 32, h: 4, w: 4, k: 4, stride: 2, pad: 1, dilation: 1, groups: 1),
            Case(n: 3, cin: 32, cout: 3, h: 5, w: 6, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Case(n: 2, cin: 6, cout: 5, h: 3, w: 4, k: 3, stride: 2, pad: 0, dilation: 2, groups: 1),
            Case(n: 3, cin: 4, cout: 6, h: 4, w: 4, k: 4, stride: 2, pad: 1, dilation: 1, groups: 2),
            // Phase by phase on the direct kernels: stride 3 (three phases of two, two and one
            // taps), 48 output channels, and a 1x1 stride-2 layer (phases with no taps are zeros).
            Case(n: 2, cin: 16, cout: 48, h: 3, w: 5, k: 5, stride: 3, pad: 2, dilation: 1, groups: 1),
            Case(n: 2, cin: 32, cout: 16, h: 3, w: 4, k: 1, stride: 2, pad: 0, dilation: 1, groups: 1),
            // Few output channels, phase by phase along rows of pixels: the decoder's last layer,
            // and 6 channels (two groups of 4) over 20 outputs a phase (a full and a partial vector).
            Case(n: 2, cin: 32, cout: 3, h: 5, w: 7, k: 4, stride: 2, pad: 1, dilation: 1, groups: 1),
            Case(n: 1, cin: 5, cout: 6, h: 9, w: 20, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1),
            // Padding beyond the kernel leaves a phase with negative padding: the plan must not fire.
            Case(n: 1, cin: 16, cout: 16, h: 6, w: 6, k: 2, stride: 2, pad: 3, dilation: 1, groups: 1)
        ], [1, 2])
    func convTransposeMatchesReference(c: Case, threads: Int) {
        for direct in [true, false] { checkConvTranspose(c, threads: threads, direct: direct) }
    }

    func checkConvTranspose(_ c: Case, threads: Int, direct: Bool) {
        let g = geometry(c, transposed: true)
        let x = Harness.random(g.inputCount, seed: 11)
        let w = Harness.random(c.cin * c.cout / c.groups * c.k * c.k, seed: 12)
        let b = Harness.random(c.cout, seed: 13)
        let expected = ReferenceKernels.convTranspose2d(x, w, b, g)
        let kernel = ConvTranspose2D(geometry: g, weight: w, bias: b, activation: .none, allowDirect: direct)
        kernel.repack(weight: Harness.random(w.count, seed: 98), bias: b)
        kernel.repack(weight: w, bias: b)
        let phases =
            direct && DirectConvPlan.cpuSupported && c.stride >= 2 && c.dilation == 1 && c.groups == 1 && c.pad < c.k
        switch kernel.method {
        case .phased: #expect(phases && c.cout % 16 == 0, "\(c)")
        case .planar: #expect(phases && c.cout < 16, "\(c)")
        case .gemm: #expect(!phases || (c.cout >= 16 && c.cout % 16 != 0), "\(c)")
        }
        var y = [Float](repeating: .nan, count: g.outputCount)
        var scratch = [Float](repeating: 0, count: kernel.workspacePerThread * threads)
        let xh = Harness.toNHWC(x, n: c.n, c: c.cin, plane: g.inPlane)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                kernel.run(
                    x: xh, y: yp.baseAddress!, batch: c.n, pool: ThreadPool(threads: threads),
                    workspace: sp.baseAddress!)
            }
        }
        #expect(
            maxDifference(Harness.toNCHW(y, n: c.n, c: c.cout, plane: g.outPlane), expected) < 1e-4,
            "\(c) method \(kernel.method)")
    }

    @Test(arguments: [(1, 64, 10), (3, 17, 5), (7, 33, 40)], [1, 2])
    func linearMatchesReference(shape: (n: Int, inF: Int, outF: Int), threads: Int) {
        let x = Harness.random(shape.n * shape.inF, seed: 21), w = Harness.random(shape.outF * shape.inF, seed: 22)
        let b = Harness.random(shape.outF, seed: 23)
        let expected = ReferenceKernels.linear(x, w, b, batch: shape.n, inFeatures: shape.inF, outFeatures: shape.outF)
            .map { max($0, 0) }
        let kernel = Linear(inFeatures: shape.inF, outFeatures: shape.outF, weight: w, bias: b, activation: .relu)
        var y = [Float](repeating: .nan, count: shape.n * shape.outF)
        y.withUnsafeMutableBufferPointer {
            kernel.run(x: x, y: $0.baseAddress!, residual: nil, batch: shape.n, pool: ThreadPool(threads: threads))
        }
        #expect(maxDifference(y, expected) < 1e-4)
    }
}
