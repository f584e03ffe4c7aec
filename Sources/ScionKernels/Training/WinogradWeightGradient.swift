import ScionTiles

/// The weight gradient of a Winograd-eligible convolution, computed in the transformed domain.
/// Since `y = Aᵀ (U ⊙ V) A` per tile, `dL/dU = Σ_tiles (A dy Aᵀ) ⊙ V`: for each of the 16
/// positions ξ a GEMM `Vξᵀ · Dyξ` over the tiles (the direct weight-gradient microkernels, as a
/// 1x1 convolution), and at the end `dL/dg = Gᵀ (dL/dU) G` per channel pair. 16 multiply-adds
/// per 4 outputs and channel pair instead of 36, as in the forward pass.
extension WinogradConvPlan {
    /// Adds the contribution of tile rows `tileRows` to `du`, 16 matrices `[C][O]`, in chunks of
    /// at most `maxTileRows`, and the channel sums of their dy to `bias` when given.
    /// `workspace` holds `workspaceCount` floats.
    func accumulateWeightGradient(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, tileRows: Range<Int>, into du: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Double>? = nil, workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let v = workspace, d = workspace + transformedInputCount, rows = d + transformedOutputCount
        var first = tileRows.lowerBound
        while first < tileRows.upperBound {
            let last = min(first + maxTileRows, tileRows.upperBound)
            transformInput(x, tileRows: first..<last, into: v, window: rows)
            transformGradient(dy, tileRows: first..<last, into: d)
            if let bias {
                let firstPixel = outputRow(first) * g.outWidth
                let endPixel = (outputRow(last - 1) + min(2, g.outHeight - (last - 1) % tilesHigh * 2)) * g.outWidth
                Reductions.addChannelSums(dy, rows: firstPixel..<endPixel, channels: g.outChannels, into: bias)
            }
            let tile = GradientTile(
                channels: g.inChannels, outChannels: g.outChannels, kernelHeight: 1, kernelWidth: 1, stride: 1,
                rowStride: 0, rows: 1,
                pixels: (last - first) * tilesWide)
            for xi in 0..<16 {
                Microkernels.weightGradient(
                    window: v + xi * inputMatrixStride, dy: d + xi * outputMatrixStride, tile: tile,
                    dw: du + xi * g.inChannels * g.outChannels)
            }
            first = last
        }
    }

    /// `A dy Aᵀ` of every tile in `tileRows`, position ξ of tile t at `d + ξ · outputMatrixStride + t · O`.
    func transformGradient(_ dy: UnsafePointer<Float>, tileRows: Range<Int>, into d: UnsafeMutablePointer<Float>) {
        let o = geometry.outChannels
        forEachOutputTile(tileRows) { tile, offset, rows, columns in
            Microkernels.winogradGradientTile(
                dy + offset, rowStride: geometry.outWidth * o, channels: o, rows: rows, columns: columns,
                into: d + tile * o,
                matrixStride: outputMatrixStride)
        }
    }

    /// Writes PyTorch's `[O, C, 3, 3]` weight gradient, `Gᵀ dU G` per channel pair, from the
    /// summed 16 matrices `[C][O]`.
    func weightGradient(fromTransformed du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let c = geometry.inChannels, o = geometry.outChannels
        for co in 0..<o {
            for ci in 0..<c {
                var m = SIMD16<Float>()
                for xi in 0..<16 { m[xi] = du[(xi * c + ci) * o + co] }
                let k = Self.transposedTransform(m)
                for i in 0..<9 { dw[(co * c + ci) * 9 + i] = k[i] }
            }
        }
    }

    /// `Gᵀ m G` of a row-major 4x4 `m`: the adjoint of `transform`, row-major 3x3 in the first
    /// nine lanes.
    static func transposedTransform(_ m: SIMD16<Float>) -> SIMD16<Float> {
        var t = SIMD16<Float>()  // Gᵀ m: 3 x 4, stored in rows of 4
        for col in 0..<4 {
            let a = m[col], b = m[4 + col], c = m[8 + col], d = m[12 + col]
            t[col] = a + 0.5 * (b + c)
            t[4 + col] = 0.5 * (b - c)
            t[8 + col] = 0.5 * (b + c) + d
        }
        var r = SIMD16<Float>()
        for row in 0..<3 {
            let a = t[4 * row], b = t[4 * row + 1], c = t[4 * row + 2], d = t[4 * row + 3]
            r[3 * row] = a + 0.5 * (b + c)
            r[3 * row + 1] = 0.5 * (b - c)
            r[3 * row + 2] = 0.5 * (b + c) + d
        }
        return r
    }
}
