// Direct-convolution microkernels. This file is compiled twice: as ScionAVX512 (`-target-cpu
// skylake-avx512`) and, through the symlinks in Sources/ScionAVX2, as ScionAVX2 (`-target-cpu
// haswell`, `SCION_AVX2` defined), whose kernels keep fewer accumulators because AVX2 has 16
// vector registers of 8 floats where AVX-512 has 32 of 16. ScionKernels' `Microkernels` calls
// the copy the CPU runs.
//
// Layouts (channels last):
// - `window`: the input rows one output row reads, zero-padded: `[kh][paddedWidth][C]`, row
//   stride `rowStride` floats. Reads may run past the last valid output pixel up to the next
//   multiple of 8, so the window is padded that far too.
// - `weights`: for each block of 16·V output channels, `[kh][kw][C][16·V]`.
// - `out`: `[pixel][outStride]`, starting at the block's first channel.
import ScionTiles

/// 8 output pixels x 16 channels. Stores the first `valid` pixels (adding to what is there
/// when `accumulate`).
@inline(__always)
func forward8x16(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ t: ForwardTile, _ out: UnsafeMutablePointer<Float>,
    valid: Int, accumulate: Bool
) {
    var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
    var a4 = Vector16(), a5 = Vector16(), a6 = Vector16(), a7 = Vector16()
    var wp = w
    let ps = t.stride * t.channels
    for kh in 0..<t.kernelHeight {
        var xp = x + kh * t.rowStride
        for _ in 0..<t.kernelWidth {
            for ci in 0..<t.channels {
                let wv = load(wp)
                wp += 16
                let b = xp + ci
                a0.addProduct(Vector16(repeating: b[0]), wv)
                a1.addProduct(Vector16(repeating: b[ps]), wv)
                a2.addProduct(Vector16(repeating: b[2 * ps]), wv)
                a3.addProduct(Vector16(repeating: b[3 * ps]), wv)
                a4.addProduct(Vector16(repeating: b[4 * ps]), wv)
                a5.addProduct(Vector16(repeating: b[5 * ps]), wv)
                a6.addProduct(Vector16(repeating: b[6 * ps]), wv)
                a7.addProduct(Vector16(repeating: b[7 * ps]), wv)
            }
            xp += t.channels
        }
    }
    store8(a0, a1, a2, a3, a4, a5, a6, a7, out, stride: t.outStride, valid: valid, accumulate: accumulate)
}

/// 8 output pixels x 32 channels (two vectors share each input broadcast).
@inline(__always)
func forward8x32(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ t: ForwardTile, _ out: UnsafeMutablePointer<Float>,
    valid: Int, accumulate: Bool
) {
    var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
    var a4 = Vector16(), a5 = Vector16(), a6 = Vector16(), a7 = Vector16()
    var c0 = Vector16(), c1 = Vector16(), c2 = Vector16(), c3 = Vector16()
    var c4 = Vector16(), c5 = Vector16(), c6 = Vector16(), c7 = Vector16()
    var wp = w
    let ps = t.stride * t.channels
    for kh in 0..<t.kernelHeight {
        var xp = x + kh * t.rowStride
        for _ in 0..<t.kernelWidth {
            for ci in 0..<t.channels {
                let wa = load(wp), wc = load(wp + 16)
                wp += 32
                let b = xp + ci
                var v = Vector16(repeating: b[0]); a0.addProduct(v, wa); c0.addProduct(v, wc)
                v = Vector16(repeating: b[ps]); a1.addProduct(v, wa); c1.addProduct(v, wc)
                v = Vector16(repeating: b[2 * ps]); a2.addProduct(v, wa); c2.addProduct(v, wc)
                v = Vector16(repeating: b[3 * ps]); a3.addProduct(v, wa); c3.addProduct(v, wc)
                v = Vector16(repeating: b[4 * ps]); a4.addProduct(v, wa); c4.addProduct(v, wc)
                v = Vector16(repeating: b[5 * ps]); a5.addProduct(v, wa); c5.addProduct(v, wc)
                v = Vector16(repeating: b[6 * ps]); a6.addProduct(v, wa); c6.addProduct(v, wc)
                v = Vector16(repeating: b[7 * ps]); a7.addProduct(v, wa); c7.addProduct(v, wc)
            }
            xp += t.channels
        }
    }
    store8(a0, a1, a2, a3, a4, a5, a6, a7, out, stride: t.outStride, valid: valid, accumulate: accumulate)
    store8(c0, c1, c2, c3, c4, c5, c6, c7, out + 16, stride: t.outStride, valid: valid, accumulate: accumulate)
}

/// 4 output pixels x 32 channels: row ends of up to 4 pixels (and rows of width 4) do not pay
/// for 8.
@inline(__always)
func forward4x32(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ t: ForwardTile, _ out: UnsafeMutablePointer<Float>,
    valid: Int, accumulate: Bool
) {
    var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
    var c0 = Vector16(), c1 = Vector16(), c2 = Vector16(), c3 = Vector16()
    var wp = w
    let ps = t.stride * t.channels
    for kh in 0..<t.kernelHeight {
        var xp = x + kh * t.rowStride
        for _ in 0..<t.kernelWidth {
            for ci in 0..<t.channels {
                let wa = load(wp), wc = load(wp + 16)
                wp += 32
                let b = xp + ci
                var v = Vector16(repeating: b[0]); a0.addProduct(v, wa); c0.addProduct(v, wc)
                v = Vector16(repeating: b[ps]); a1.addProduct(v, wa); c1.addProduct(v, wc)
                v = Vector16(repeating: b[2 * ps]); a2.addProduct(v, wa); c2.addProduct(v, wc)
                v = Vector16(repeating: b[3 * ps]); a3.addProduct(v, wa); c3.addProduct(v, wc)
            }
            xp += t.channels
        }
    }
    store8(a0, a1, a2, a3, a3, a3, a3, a3, out, stride: t.outStride, valid: valid, accumulate: accumulate)
    store8(c0, c1, c2, c3, c3, c3, c3, c3, out + 16, stride: t.outStride, valid: valid, accumulate: accumulate)
}

/// 4 output pixels x 16 channels.
@inline(__always)
func forward4x16(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ t: ForwardTile, _ out: UnsafeMutablePointer<Float>,
    valid: Int, accumulate: Bool
) {
    var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
    var wp = w
    let ps = t.stride * t.channels
    for kh in 0..<t.kernelHeight {
        var xp = x + kh * t.rowStride
        for _ in 0..<t.kernelWidth {
            for ci in 0..<t.channels {
                let wv = load(wp)
                wp += 16
                let b = xp + ci
                a0.addProduct(Vector16(repeating: b[0]), wv)
                a1.addProduct(Vector16(repeating: b[ps]), wv)
                a2.addProduct(Vector16(repeating: b[2 * ps]), wv)
                a3.addProduct(Vector16(repeating: b[3 * ps]), wv)
            }
            xp += t.channels
        }
    }
    store8(a0, a1, a2, a3, a3, a3, a3, a3, out, stride: t.outStride, valid: valid, accumulate: accumulate)
}

/// Direct convolution of whole output rows.
public enum DirectConvolution {
    /// Output channels in the weight block that starts `remaining` channels before the end
    /// (channels are a multiple of 16): on AVX-512 blocks of 32 while they fit, then one of 16;
    /// on AVX2 always 16 (its 16 registers hold 4 pixels x 16 channels of accumulators).
    @inline(__always)
    public static func blockSize(remaining: Int) -> Int {
        #if SCION_AVX2
            16
        #else
            remaining >= 32 ? 32 : 16
        #endif
    }

    /// Computes `pixels` output pixels of one row for every output channel.
    public static func forwardRow(
        window: UnsafePointer<Float>, weights: UnsafePointer<Float>, tile: ForwardTile, outChannels: Int, pixels: Int,
        out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var w = weights
        var co = 0
        let taps = tile.kernelHeight * tile.kernelWidth * tile.channels
        while co < outChannels {
            let block = blockSize(remaining: outChannels - co)
            var p = 0
            #if SCION_AVX2
                while p < pixels {
                    let o = out + p * tile.outStride + co
                    forward4x16(
                        window + p * tile.stride * tile.channels, w, tile, o, valid: min(4, pixels - p),
                        accumulate: accumulate)
                    p += 4
                }
            #endif
            while p < pixels {
                let x = window + p * tile.stride * tile.channels
                let valid = min(8, pixels - p)
                let o = out + p * tile.outStride + co
                switch (block, valid > 4) {
                case (32, true): forward8x32(x, w, tile, o, valid: valid, accumulate: accumulate)
                case (32, false): forward4x32(x, w, tile, o, valid: valid, accumulate: accumulate)
                case (_, true): forward8x16(x, w, tile, o, valid: valid, accumulate: accumulate)
                default: forward4x16(x, w, tile, o, valid: valid, accumulate: accumulate)
                }
                p += 8
            }
            w += taps * block
            co += block
        }
    }
}
