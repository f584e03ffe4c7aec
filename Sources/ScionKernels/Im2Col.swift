import ScionTiles

/// The patch gathering of GEMM convolutions (im2col) over NHWC tensors, shared by the forward
/// pass and the weight gradient: each output pixel's receptive field laid out as one row
/// `[kh][kw][ci]` of `depth` floats, chunk by chunk into a per-thread scratch. A 1x1 stride-1
/// convolution needs no gathering: its input rows already are the patches (`pointwise`).
struct Im2Col: Sendable {
    let geometry: ConvGeometry
    /// Floats per patch row: `kh * kw * cin/groups`, the GEMM's reduction length.
    let depth: Int
    let pointwise: Bool
    /// Output pixels per gathered chunk (about 128 KiB of patches).
    let maxChunkRows: Int

    init(_ g: ConvGeometry) {
        geometry = g
        depth = g.kernelHeight * g.kernelWidth * g.inChannelsPerGroup
        pointwise =
            g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
        maxChunkRows = min(1024, max(16, 32768 / max(depth, 1)))
    }

    /// Floats of scratch one thread needs for a chunk of patches.
    var scratchPerThread: Int { pointwise ? 0 : maxChunkRows * depth }

    /// Gathers the receptive fields of output rows `firstRow ..< firstRow + rows` for one group,
    /// each row laid out `[kh][kw][ci]`, zeros where the window leaves the image.
    func gather(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int, group: Int)
    {
        let g = geometry
        let cinG = g.inChannelsPerGroup
        let contiguousRow = g.dilationW == 1 && g.groups == 1
        for r in 0..<rows {
            let pixel = firstRow + r
            let n = pixel / g.outPlane, rem = pixel % g.outPlane
            let oh = rem / g.outWidth, ow = rem % g.outWidth
            let dst = col + r * depth
            let iw0 = ow * g.strideW - g.padW
            for kh in 0..<g.kernelHeight {
                let ih = oh * g.strideH - g.padH + kh * g.dilationH
                let seg = dst + kh * g.kernelWidth * cinG
                guard ih >= 0, ih < g.inHeight else {
                    seg.update(repeating: 0, count: g.kernelWidth * cinG)
                    continue
                }
                let rowBase = x + ((n * g.inHeight + ih) * g.inWidth) * g.inChannels + group * cinG
                if contiguousRow, iw0 >= 0, iw0 + g.kernelWidth <= g.inWidth {
                    seg.update(from: rowBase + iw0 * g.inChannels, count: g.kernelWidth * cinG)
                    continue
                }
                for kw in 0..<g.kernelWidth {
                    let iw = iw0 + kw * g.dilationW
                    if iw >= 0, iw < g.inWidth {
                        (seg + kw * cinG).update(from: rowBase + iw * g.inChannels, count: cinG)
                    } else {
                        (seg + kw * cinG).update(repeating: 0, count: cinG)
                    }
                }
            }
        }
    }
}
