/// Direct layers whose packed weights outgrow L2 (ResNet-18's last stage: 9 MB per 3x3
/// convolution of 512 channels on 4x4 images), on batches of a few rows. Row by row, every output
/// row streams all the weights, and a batch of one has too few rows to keep both threads busy;
/// here a chunk keeps the windows of up to `weightHeavyRows` rows and runs them block of 32
/// output channels by block, so each block's weights come from memory once per chunk and from
/// L2 for its other rows, and the output channels are split between chunks so every thread works.
/// Measured on ResNet-18 (AVX2, interleaved A/B): batch 1 1.07x; at batches 8 and 64, where it
/// also ran, 0.99x and 0.97x, so larger batches keep the row-by-row path.
extension Conv2D {
    /// Packed weights, in floats, above which a direct layer runs this way (L2 is 1 MB here).
    static let weightHeavyFloats = 262_144
    /// Output rows per chunk (their windows are kept together).
    static let weightHeavyRows = 4

    /// Whether a batch of `rows` output rows runs this way: weights over L2 and at most two
    /// groups of rows.
    func runsWeightHeavy(rows: Int) -> Bool { weightHeavy && rows <= 2 * Self.weightHeavyRows }

    var weightHeavy: Bool {
        guard case .direct = algorithm else { return false }
        let g = geometry
        return g.kernelHeight * g.kernelWidth * g.inChannels * g.outChannels > Self.weightHeavyFloats
    }

    func weightHeavyChunking(batch: Int, threads: Int) -> Chunking {
        let total = batch * geometry.outHeight
        let rowGroups = (total + Self.weightHeavyRows - 1) / Self.weightHeavyRows
        let channelGroups = rowGroups % threads == 0 ? 1 : min(threads, (geometry.outChannels + 31) / 32)
        return Chunking(rowGroupsOf: Self.weightHeavyRows, total: total, channelGroups: channelGroups)
    }

    /// Chunk `chunk`: its rows for its share of the output channels (whole blocks of 32, which
    /// start where the packing's blocks do for both instruction sets).
    func computeWeightHeavy(
        _ plan: DirectConvPlan, chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, windows: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, groups = chunking.channelGroups, blocks = (g.outChannels + 31) / 32
        let first = chunk / groups * chunking.rows, last = min(first + chunking.rows, chunking.total)
        let part = chunk % groups
        let c0 = min(g.outChannels, part * blocks / groups * 32)
        let c1 = min(g.outChannels, (part + 1) * blocks / groups * 32)
        guard first < last, c0 < c1 else { return }
        let rowFloats = g.outWidth * g.outChannels
        for row in first..<last {
            plan.fillWindow(
                x, image: row / g.outHeight, firstInputRow: row % g.outHeight * g.strideH - g.padH,
                rows: g.kernelHeight, into: windows + (row - first) * plan.windowCount)
            if let residual, residual != UnsafePointer(y) {
                for p in 0..<g.outWidth {
                    let at = row * rowFloats + p * g.outChannels
                    (y + at + c0).update(from: residual + at + c0, count: c1 - c0)
                }
            }
        }
        var co = c0
        while co < c1 {
            let block = min(32, c1 - co)
            for row in first..<last {
                Microkernels.forwardRow(
                    window: windows + (row - first) * plan.windowCount,
                    weights: packed + g.kernelHeight * g.kernelWidth * g.inChannels * co, tile: plan.tile,
                    outChannels: block, pixels: g.outWidth, out: y + row * rowFloats + co, accumulate: residual != nil)
            }
            co += block
        }
        guard bias != nil || activation != .none else { return }
        for row in first..<last {
            Epilogue.apply(
                y + row * rowFloats + c0, rows: g.outWidth, channels: c1 - c0, stride: g.outChannels,
                shift: bias.map { UnsafePointer($0 + c0) }, activation: activation)
        }
    }
}
