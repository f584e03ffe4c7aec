import ScionTiles

/// The weight gradient of a Winograd-eligible convolution, computed in the transformed domain.
/// Since `y = Aᵀ (U ⊙ V) A` per tile, `dL/dU = Σ_tiles (A dy Aᵀ) ⊙ V`: for each position ξ a
/// GEMM `Vξᵀ · Dyξ` over the tiles (the direct weight-gradient microkernels, as a 1x1
/// convolution), and at the end `dL/dg = Gᵀ (dL/dU) G` per channel pair: as few multiply-adds
/// as the forward pass.
extension WinogradConvPlan {
    /// Adds the contribution of tile rows `tileRows` to `du`, one matrix `[C][O]` per position, in chunks of
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
                let endPixel = (outputRow(last - 1) + rowsInside(last - 1)) * g.outWidth
                Reductions.addChannelSums(dy, rows: firstPixel..<endPixel, channels: g.outChannels, into: bias)
            }
            let tile = GradientTile(
                channels: g.inChannels, outChannels: g.outChannels, kernelHeight: 1, kernelWidth: 1, stride: 1,
                rowStride: 0, rows: 1,
                pixels: (last - first) * tilesWide)
            for xi in 0..<positions {
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
        forEachOutputTile(tileRows) { index, offset, rows, columns in
            Microkernels.winogradGradientTile(
                tile: tile, dy + offset, rowStride: geometry.outWidth * o, channels: o, rows: rows, columns: columns,
                into: d + index * o,
                matrixStride: outputMatrixStride)
        }
    }

    /// Writes PyTorch's `[O, C, 3, 3]` weight gradient, `Gᵀ dU G` per channel pair, from the
    /// summed matrices `[C][O]`, one per position.
    func weightGradient(fromTransformed du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let c = geometry.inChannels, o = geometry.outChannels, transform = WinogradKernelTransform(tile: tile)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 9 * 16) { buffer in
            guard let taps = buffer.baseAddress else { return }
            // 16 output channels at a time (`suits` asks for multiples of 16).
            for co0 in stride(from: 0, to: o, by: 16) {
                for ci in 0..<c {
                    transform.adjoint(lanes: du + ci * o + co0, stride: c * o, into: taps)
                    for l in 0..<16 {
                        let kernel = dw + ((co0 + l) * c + ci) * 9
                        for t in 0..<9 { kernel[t] = taps[t * 16 + l] }
                    }
                }
            }
        }
    }
}
