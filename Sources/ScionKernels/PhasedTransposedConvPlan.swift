import ScionTiles

/// A strided transposed convolution as `stride²` stride-1 convolutions on the direct
/// microkernels (AVX-512 or AVX2), one per output phase.
///
/// Output row `o` of a transposed convolution with stride `s` and padding `p` only receives
/// the taps `t ≡ (o + p) mod s`, so the outputs of one residue ("phase") form a stride-1
/// convolution of the input with a sub-kernel of about `k / s` taps a side (flipped, since a
/// transposed convolution scatters). Each phase writes every `s`-th output pixel; the
/// microkernels' output pixel stride makes that free. This replaces a GEMM into a per-image
/// tap buffer plus a gather, which read and wrote `k²` floats per input pixel and channel.
///
/// Used by `ConvTranspose2D` (decoders, and the input gradient of strided convolutions) when
/// the CPU runs the microkernels, there is one group, no dilation, equal strides of 2 or more, the
/// output channels are a multiple of 16 and every phase's padding is non-negative.
public struct PhasedTransposedConvPlan: Sendable {
    /// One output residue along one axis.
    struct Phase: Sendable {
        /// Taps of the sub-kernel (0: the phase's outputs get no contribution).
        let taps: Int
        /// The first output index of the phase, and how many outputs it has.
        let firstOutput: Int
        let count: Int
        /// Input rows before the first output's window (the sub-convolution's padding).
        let pad: Int
        /// The sub-kernel's tap `j` is the full kernel's tap `residue + stride · (taps - 1 - j)`.
        let residue: Int
    }

    /// One pair of phases with its direct-convolution plan and where its packed weights start.
    struct Part: Sendable {
        let row: Phase, column: Phase
        let plan: DirectConvPlan?
        let offset: Int
    }

    public let geometry: ConvGeometry
    let rowPhases: [Phase]
    let parts: [Part]
    /// Floats of packed weights.
    public let packedCount: Int
    /// Floats of one thread's window.
    public let windowCount: Int

    /// Nil when `g` (a transposed convolution: `in` is the small side) does not suit the plan.
    public init?(_ g: ConvGeometry) {
        guard DirectConvPlan.cpuSupported, g.groups == 1, g.dilationH == 1, g.dilationW == 1, g.strideH == g.strideW,
            g.strideH >= 2,
            g.outChannels % 16 == 0
        else { return nil }
        let s = g.strideH
        let rows = (0..<s).map {
            Self.phase(residue: $0, kernel: g.kernelHeight, stride: s, pad: g.padH, outputs: g.outHeight)
        }
        let columns = (0..<s).map {
            Self.phase(residue: $0, kernel: g.kernelWidth, stride: s, pad: g.padW, outputs: g.outWidth)
        }
        guard (rows + columns).allSatisfy({ $0.taps == 0 || $0.pad >= 0 }) else { return nil }
        var parts: [Part] = [], offset = 0, window = 0
        for row in rows {
            for column in columns {
                var plan: DirectConvPlan?
                if row.taps > 0, column.taps > 0, row.count > 0, column.count > 0 {
                    plan = DirectConvPlan(
                        ConvGeometry(
                            batch: g.batch, inChannels: g.inChannels, inHeight: g.inHeight, inWidth: g.inWidth,
                            outChannels: g.outChannels,
                            outHeight: row.count, outWidth: column.count, kernelHeight: row.taps,
                            kernelWidth: column.taps,
                            padH: row.pad, padW: column.pad))
                }
                parts.append(Part(row: row, column: column, plan: plan, offset: offset))
                if let plan {
                    offset += row.taps * column.taps * g.inChannels * g.outChannels
                    window = max(window, plan.windowCount)
                }
            }
        }
        geometry = g
        rowPhases = rows
        self.parts = parts
        packedCount = max(offset, 1)
        windowCount = window
    }

    /// The outputs `o ≡ residue - pad (mod stride)` along an axis of `outputs`.
    static func phase(residue r: Int, kernel k: Int, stride s: Int, pad p: Int, outputs: Int) -> Phase {
        let taps = r < k ? (k - r + s - 1) / s : 0
        let firstQ = (p - r + s - 1) / s
        let first = firstQ * s + r - p
        let count = first < outputs ? (outputs - first + s - 1) / s : 0
        return Phase(taps: taps, firstOutput: first, count: count, pad: taps - 1 - firstQ, residue: r)
    }

    /// Packs PyTorch's transposed-convolution weights `[C, O, kh, kw]`: each phase's flipped
    /// sub-kernel as a forward `[O, C, mh, mw]` weight, packed for the microkernels.
    public func pack(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let g = geometry, s = g.strideH, c = g.inChannels, o = g.outChannels
        for part in parts {
            guard let plan = part.plan else { continue }
            let mh = part.row.taps, mw = part.column.taps
            let sub = UnsafeMutablePointer<Float>.allocate(capacity: o * c * mh * mw)
            defer { sub.deallocate() }
            for co in 0..<o {
                for ci in 0..<c {
                    for jh in 0..<mh {
                        for jw in 0..<mw {
                            let th = part.row.residue + s * (mh - 1 - jh), tw = part.column.residue + s * (mw - 1 - jw)
                            sub[((co * c + ci) * mh + jh) * mw + jw] =
                                w[((ci * o + co) * g.kernelHeight + th) * g.kernelWidth + tw]
                        }
                    }
                }
            }
            plan.pack(sub, into: packed + part.offset)
        }
    }

    /// Writes output row `oh` of image `n`: every column phase of the row's phase.
    public func computeRow(
        image n: Int, row oh: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        weights: UnsafePointer<Float>,
        window: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, s = g.strideH
        let rowPhase = (oh + g.padH) % s
        let phaseRow = (oh - rowPhases[rowPhase].firstOutput) / s
        let rowStart = y + ((n * g.outHeight + oh) * g.outWidth) * g.outChannels
        for part in parts[(rowPhase * s)..<((rowPhase + 1) * s)] {
            let out = rowStart + part.column.firstOutput * g.outChannels
            guard let plan = part.plan else {
                for i in 0..<part.column.count {
                    (out + i * s * g.outChannels).update(repeating: 0, count: g.outChannels)
                }
                continue
            }
            plan.fillWindow(x, image: n, firstInputRow: phaseRow - part.row.pad, rows: part.row.taps, into: window)
            var tile = plan.tile
            tile.outStride = s * g.outChannels
            Microkernels.forwardRow(
                window: window, weights: weights + part.offset, tile: tile, outChannels: g.outChannels,
                pixels: part.column.count,
                out: out, accumulate: false)
        }
    }
}
