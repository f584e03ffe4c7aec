import ScionTiles

/// A strided transposed convolution with few output channels (fewer than 16, e.g. a decoder's
/// last layer writing 3 colour channels), phase by phase like `PhasedTransposedConvPlan`, but
/// with the vector along 16 output pixels of a phase instead of along output channels.
///
/// Each image is first copied channel-planar with a zero border (`[C][H + 2B][W + 2B + 16]`),
/// so the input values of 16 neighbouring outputs of one phase are 16 consecutive floats; the
/// microkernel then accumulates four output channels at a time. With 3 output channels the
/// GEMM-and-gather path spent most of its time on a 48-column GEMM and a 3-float gather.
public struct PlanarTransposedConvPlan: Sendable {
    typealias Phase = PhasedTransposedConvPlan.Phase

    struct Part: Sendable {
        let row: Phase, column: Phase
        /// Offsets of the sub-kernel's taps `(jh, jw, c)` in the planar copy, from the first
        /// output's top-left input.
        let offsets: [Int]
        /// Where the part's packed weights start: per group of 4 output channels, `[tap][4]`.
        let weightOffset: Int
        var taps: Int { offsets.count }
    }

    public let geometry: ConvGeometry
    let rowPhases: [Phase]
    let parts: [Part]
    let border: Int, planarHeight: Int, planarWidth: Int
    let groupsOf4: Int
    public let packedCount: Int

    /// Nil when `g` (a transposed convolution) does not suit the plan.
    public init?(_ g: ConvGeometry) {
        guard DirectConvPlan.cpuSupported, g.groups == 1, g.dilationH == 1, g.dilationW == 1, g.strideH == g.strideW,
            g.strideH >= 2,
            g.outChannels < 16
        else { return nil }
        let s = g.strideH
        let rows = (0..<s).map {
            PhasedTransposedConvPlan.phase(
                residue: $0, kernel: g.kernelHeight, stride: s, pad: g.padH, outputs: g.outHeight)
        }
        let columns = (0..<s).map {
            PhasedTransposedConvPlan.phase(
                residue: $0, kernel: g.kernelWidth, stride: s, pad: g.padW, outputs: g.outWidth)
        }
        guard (rows + columns).allSatisfy({ $0.taps == 0 || $0.pad >= 0 }) else { return nil }
        let border = (rows + columns).map { max($0.taps, $0.pad) }.max() ?? 0
        // Rows and columns read reach `border + count - 1 - pad + taps - 1` (plus 15 lanes).
        let height = border + max(g.inHeight, (g.outHeight + s - 1) / s + border)
        let width = border + max(g.inWidth, (g.outWidth + s - 1) / s + border) + 16
        let groups = (g.outChannels + 3) / 4
        var parts: [Part] = [], offset = 0
        for row in rows {
            for column in columns {
                var offsets: [Int] = []
                for jh in 0..<row.taps {
                    for jw in 0..<column.taps {
                        for c in 0..<g.inChannels { offsets.append((c * height + jh) * width + jw) }
                    }
                }
                parts.append(Part(row: row, column: column, offsets: offsets, weightOffset: offset))
                offset += offsets.count * 4 * groups
            }
        }
        geometry = g
        rowPhases = rows
        self.parts = parts
        self.border = border
        (planarHeight, planarWidth, groupsOf4) = (height, width, groups)
        packedCount = max(offset, 1)
    }

    /// Floats of one thread's planar copy.
    public var workspaceCount: Int { geometry.inChannels * planarHeight * planarWidth }

    /// Packs PyTorch's `[C, O, kh, kw]` weights: per part and group of 4 output channels,
    /// `[tap][4]` in the order of `Part.offsets`, zero for channels past `O`.
    public func pack(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let g = geometry, s = g.strideH, o = g.outChannels
        for part in parts {
            var at = part.weightOffset
            for group in 0..<groupsOf4 {
                for jh in 0..<part.row.taps {
                    for jw in 0..<part.column.taps {
                        let th = part.row.residue + s * (part.row.taps - 1 - jh),
                            tw = part.column.residue + s * (part.column.taps - 1 - jw)
                        for c in 0..<g.inChannels {
                            for j in 0..<4 {
                                let co = group * 4 + j
                                packed[at] = co < o ? w[((c * o + co) * g.kernelHeight + th) * g.kernelWidth + tw] : 0
                                at += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes image `n` of `y` (NHWC) from `x`, plus `bias` when given, using `planar`
    /// (`workspaceCount` floats). Rows of one phase go in pairs (`q`, `q + 1`), which share
    /// every weight.
    public func compute(
        image n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        planar: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, s = g.strideH
        fillPlanar(x + n * g.inPlane * g.inChannels, planar)
        let image = y + n * g.outPlane * g.outChannels
        for (residue, phase) in rowPhases.enumerated() {
            var q = 0
            while q < phase.count {
                let rows = min(2, phase.count - q)
                for part in parts[(residue * s)..<((residue + 1) * s)] {
                    computeRows(part, q: q, rows: rows, y: image, weights: weights, bias: bias, planar: planar)
                }
                q += 2
            }
        }
    }

    /// `planar[c][border + h][border + w] = x[h][w][c]`, zero elsewhere.
    func fillPlanar(_ x: UnsafePointer<Float>, _ planar: UnsafeMutablePointer<Float>) {
        let g = geometry, c = g.inChannels, plane = planarHeight * planarWidth
        let right = planarWidth - border - g.inWidth
        for ch in 0..<c {
            let p = planar + ch * plane
            p.update(repeating: 0, count: border * planarWidth)
            (p + (border + g.inHeight) * planarWidth).update(
                repeating: 0, count: (planarHeight - border - g.inHeight) * planarWidth)
            for h in 0..<g.inHeight {
                let dst = p + (border + h) * planarWidth
                dst.update(repeating: 0, count: border)
                (dst + border + g.inWidth).update(repeating: 0, count: right)
                let src = x + h * g.inWidth * c + ch
                for w in 0..<g.inWidth { dst[border + w] = src[w * c] }
            }
        }
    }

    /// Outputs `q` (and `q + 1` when `rows` is 2) of `part`'s row phase, every column of its
    /// column phase.
    private func computeRows(
        _ part: Part, q: Int, rows: Int, y image: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, planar: UnsafePointer<Float>
    ) {
        let g = geometry, s = g.strideH, o = g.outChannels
        let firstRow = image + (part.row.firstOutput + q * s) * g.outWidth * o, rowFloats = s * g.outWidth * o
        var start = 0
        while start < part.column.count {
            let lanes = min(16, part.column.count - start)
            let columnOffset = (part.column.firstOutput + start * s) * o
            guard part.taps > 0 else {
                for r in 0..<rows {
                    for i in 0..<lanes {
                        let dst = firstRow + r * rowFloats + columnOffset + i * s * o
                        for j in 0..<o { dst[j] = bias?[j] ?? 0 }
                    }
                }
                start += 16
                continue
            }
            let origin = planar + (border + q - part.row.pad) * planarWidth + border + start - part.column.pad
            part.offsets.withUnsafeBufferPointer { offsets in
                for group in 0..<groupsOf4 {
                    let sums = Microkernels.planar16x4x2(
                        window: origin, rowStride: planarWidth, offsets: offsets.baseAddress!,
                        weights: weights + part.weightOffset + group * part.taps * 4, taps: part.taps)
                    let channels = min(4, o - group * 4)
                    for r in 0..<rows {
                        let v = r == 0 ? (sums.0, sums.1, sums.2, sums.3) : (sums.4, sums.5, sums.6, sums.7)
                        for i in 0..<lanes {
                            let dst = firstRow + r * rowFloats + columnOffset + i * s * o + group * 4
                            let b = bias.map { $0 + group * 4 }
                            if channels > 0 { dst[0] = v.0[i] + (b?[0] ?? 0) }
                            if channels > 1 { dst[1] = v.1[i] + (b?[1] ?? 0) }
                            if channels > 2 { dst[2] = v.2[i] + (b?[2] ?? 0) }
                            if channels > 3 { dst[3] = v.3[i] + (b?[3] ?? 0) }
                        }
                    }
                }
            }
            start += 16
        }
    }
}
