// Weight-gradient microkernels (compiled twice, as ForwardMicrokernels.swift explains):
// `dW[kh][kw][ci][co] += Σ x[r·s+kh][p·s+kw][ci] · dy[r][p][co]` over a tile of output rows,
// accumulating in registers across the tile.
//
// `window` holds the tile's zero-padded input rows, `[(rows-1)·s + kh][paddedWidth][C]` with
// row stride `rowStride`; `dy` is `[rows][pixels][outChannels]`; `dw` is `[kh][kw][C][outChannels]`.
import ScionTiles

extension DirectConvolution {
    /// Adds one tile's contribution to `dw` (output channels a multiple of 16).
    public static func weightGradient(
        window: UnsafePointer<Float>, dy: UnsafePointer<Float>, tile t: GradientTile, dw: UnsafeMutablePointer<Float>
    ) {
        for kh in 0..<t.kernelHeight {
            for kw in 0..<t.kernelWidth {
                let x = window + kh * t.rowStride + kw * t.channels
                let tap = dw + (kh * t.kernelWidth + kw) * t.channels * t.outChannels
                var ci = 0
                #if SCION_AVX2
                    // AVX2's 16 registers hold up to 6 input x 16 output channels of accumulators.
                    while t.channels - ci >= 6 {
                        for co in stride(from: 0, to: t.outChannels, by: 16) {
                            gradient6x16(x + ci, dy + co, t, tap + ci * t.outChannels + co)
                        }
                        ci += 6
                    }
                    while t.channels - ci >= 4 {
                        for co in stride(from: 0, to: t.outChannels, by: 16) {
                            gradient4x16(x + ci, dy + co, t, tap + ci * t.outChannels + co)
                        }
                        ci += 4
                    }
                #endif
                while ci < t.channels {
                    let wide = t.channels - ci >= 8
                    var co = 0
                    while co < t.outChannels {
                        let out = tap + ci * t.outChannels + co
                        if wide {
                            if t.outChannels - co >= 32 {
                                gradient8x32(x + ci, dy + co, t, out)
                            } else {
                                gradient8x16(x + ci, dy + co, t, out)
                            }
                        } else {
                            gradient1x16(x + ci, dy + co, t, out)
                            if t.outChannels - co >= 32 { gradient1x16(x + ci, dy + co + 16, t, out + 16) }
                        }
                        co += t.outChannels - co >= 32 ? 32 : 16
                    }
                    ci += wide ? 8 : 1
                }
            }
        }
    }
}

/// 8 input channels x 16 output channels over the whole tile.
@inline(__always)
func gradient8x16(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ t: GradientTile, _ dw: UnsafeMutablePointer<Float>
) {
    let o = t.outChannels
    var a0 = load(dw), a1 = load(dw + o), a2 = load(dw + 2 * o), a3 = load(dw + 3 * o)
    var a4 = load(dw + 4 * o), a5 = load(dw + 5 * o), a6 = load(dw + 6 * o), a7 = load(dw + 7 * o)
    let ps = t.pixelStep
    for r in 0..<t.rows {
        var xp = x + r * t.stride * t.rowStride
        var dp = dy + r * t.pixels * o
        for _ in 0..<t.pixels {
            let d = load(dp)
            a0.addProduct(Vector16(repeating: xp[0]), d)
            a1.addProduct(Vector16(repeating: xp[1]), d)
            a2.addProduct(Vector16(repeating: xp[2]), d)
            a3.addProduct(Vector16(repeating: xp[3]), d)
            a4.addProduct(Vector16(repeating: xp[4]), d)
            a5.addProduct(Vector16(repeating: xp[5]), d)
            a6.addProduct(Vector16(repeating: xp[6]), d)
            a7.addProduct(Vector16(repeating: xp[7]), d)
            xp += ps
            dp += o
        }
    }
    store8(a0, a1, a2, a3, a4, a5, a6, a7, dw, stride: o, valid: 8, accumulate: false)
}

/// 6 input channels x 16 output channels over the whole tile (AVX2: 12 of its 16 registers).
@inline(__always)
func gradient6x16(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ t: GradientTile, _ dw: UnsafeMutablePointer<Float>
) {
    let o = t.outChannels
    var a0 = load(dw), a1 = load(dw + o), a2 = load(dw + 2 * o), a3 = load(dw + 3 * o), a4 = load(dw + 4 * o),
        a5 = load(dw + 5 * o)
    let ps = t.pixelStep
    for r in 0..<t.rows {
        var xp = x + r * t.stride * t.rowStride
        var dp = dy + r * t.pixels * o
        for _ in 0..<t.pixels {
            let d = load(dp)
            a0.addProduct(Vector16(repeating: xp[0]), d)
            a1.addProduct(Vector16(repeating: xp[1]), d)
            a2.addProduct(Vector16(repeating: xp[2]), d)
            a3.addProduct(Vector16(repeating: xp[3]), d)
            a4.addProduct(Vector16(repeating: xp[4]), d)
            a5.addProduct(Vector16(repeating: xp[5]), d)
            xp += ps
            dp += o
        }
    }
    store8(a0, a1, a2, a3, a4, a5, a5, a5, dw, stride: o, valid: 6, accumulate: false)
}

/// 4 input channels x 16 output channels over the whole tile.
@inline(__always)
func gradient4x16(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ t: GradientTile, _ dw: UnsafeMutablePointer<Float>
) {
    let o = t.outChannels
    var a0 = load(dw), a1 = load(dw + o), a2 = load(dw + 2 * o), a3 = load(dw + 3 * o)
    let ps = t.pixelStep
    for r in 0..<t.rows {
        var xp = x + r * t.stride * t.rowStride
        var dp = dy + r * t.pixels * o
        for _ in 0..<t.pixels {
            let d = load(dp)
            a0.addProduct(Vector16(repeating: xp[0]), d)
            a1.addProduct(Vector16(repeating: xp[1]), d)
            a2.addProduct(Vector16(repeating: xp[2]), d)
            a3.addProduct(Vector16(repeating: xp[3]), d)
            xp += ps
            dp += o
        }
    }
    store(a0, dw, accumulate: false)
    store(a1, dw + o, accumulate: false)
    store(a2, dw + 2 * o, accumulate: false)
    store(a3, dw + 3 * o, accumulate: false)
}

/// 8 input channels x 32 output channels: each broadcast feeds two FMAs.
@inline(__always)
func gradient8x32(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ t: GradientTile, _ dw: UnsafeMutablePointer<Float>
) {
    let o = t.outChannels
    var a0 = load(dw), a1 = load(dw + o), a2 = load(dw + 2 * o), a3 = load(dw + 3 * o)
    var a4 = load(dw + 4 * o), a5 = load(dw + 5 * o), a6 = load(dw + 6 * o), a7 = load(dw + 7 * o)
    var c0 = load(dw + 16), c1 = load(dw + o + 16), c2 = load(dw + 2 * o + 16), c3 = load(dw + 3 * o + 16)
    var c4 = load(dw + 4 * o + 16), c5 = load(dw + 5 * o + 16), c6 = load(dw + 6 * o + 16), c7 = load(dw + 7 * o + 16)
    let ps = t.pixelStep
    for r in 0..<t.rows {
        var xp = x + r * t.stride * t.rowStride
        var dp = dy + r * t.pixels * o
        for _ in 0..<t.pixels {
            let d = load(dp), e = load(dp + 16)
            var v = Vector16(repeating: xp[0]); a0.addProduct(v, d); c0.addProduct(v, e)
            v = Vector16(repeating: xp[1]); a1.addProduct(v, d); c1.addProduct(v, e)
            v = Vector16(repeating: xp[2]); a2.addProduct(v, d); c2.addProduct(v, e)
            v = Vector16(repeating: xp[3]); a3.addProduct(v, d); c3.addProduct(v, e)
            v = Vector16(repeating: xp[4]); a4.addProduct(v, d); c4.addProduct(v, e)
            v = Vector16(repeating: xp[5]); a5.addProduct(v, d); c5.addProduct(v, e)
            v = Vector16(repeating: xp[6]); a6.addProduct(v, d); c6.addProduct(v, e)
            v = Vector16(repeating: xp[7]); a7.addProduct(v, d); c7.addProduct(v, e)
            xp += ps
            dp += o
        }
    }
    store8(a0, a1, a2, a3, a4, a5, a6, a7, dw, stride: o, valid: 8, accumulate: false)
    store8(c0, c1, c2, c3, c4, c5, c6, c7, dw + 16, stride: o, valid: 8, accumulate: false)
}

/// 1 input channel x 16 output channels (channel counts that are not a multiple of 8).
@inline(__always)
func gradient1x16(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ t: GradientTile, _ dw: UnsafeMutablePointer<Float>
) {
    let o = t.outChannels
    var a = load(dw)
    let ps = t.pixelStep
    for r in 0..<t.rows {
        var xp = x + r * t.stride * t.rowStride
        var dp = dy + r * t.pixels * o
        for _ in 0..<t.pixels {
            a.addProduct(Vector16(repeating: xp[0]), load(dp))
            xp += ps
            dp += o
        }
    }
    store(a, dw, accumulate: false)
}
