import ScionTiles

/// How a convolution runs as a direct convolution with the microkernels (AVX-512 or AVX2,
/// see `MicrokernelISA`): output rows are computed from a zero-padded copy of the input rows
/// they read (the "window"), so the microkernels never test bounds. Chosen when the CPU runs
/// the microkernels, there is one group, no dilation, equal strides and the output channels are
/// a multiple of 16; otherwise convolutions use im2col and sgemm.
public struct DirectConvPlan: Sendable {
    /// True when this CPU runs a copy of the microkernels and the environment does not turn them
    /// off (`SCION_KERNELS=generic` forces im2col + sgemm everywhere, for comparisons).
    public static let cpuSupported: Bool = MicrokernelISA.active != nil

    public let geometry: ConvGeometry
    /// Window width: enough for the output row rounded up to the microkernels' 8 pixels.
    public let paddedWidth: Int

    /// Nil when `geometry` does not suit the direct microkernels.
    public init?(_ g: ConvGeometry) {
        guard g.groups == 1, g.dilationH == 1, g.dilationW == 1, g.strideH == g.strideW, g.outChannels % 16 == 0,
            g.outWidth >= 1, g.inChannels >= 1
        else { return nil }
        geometry = g
        paddedWidth = ((g.outWidth + 7) / 8 * 8 - 1) * g.strideW + g.kernelWidth
    }

    /// Floats in one output row's window.
    public var windowCount: Int { geometry.kernelHeight * paddedWidth * geometry.inChannels }

    /// The microkernel view of the layer.
    public var tile: ForwardTile {
        let g = geometry
        return ForwardTile(
            channels: g.inChannels, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, stride: g.strideW,
            rowStride: paddedWidth * g.inChannels, outStride: g.outChannels)
    }

    /// Packs PyTorch's `[O, C, kh, kw]` weights as the microkernels read them: for each block
    /// of output channels, `[kh][kw][C][block]`.
    public func pack(_ w: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        let g = geometry, kh = g.kernelHeight, kw = g.kernelWidth, c = g.inChannels
        var at = 0, co0 = 0
        while co0 < g.outChannels {
            let block = Microkernels.blockSize(remaining: g.outChannels - co0)
            for y in 0..<kh {
                for x in 0..<kw {
                    for ci in 0..<c {
                        for j in 0..<block {
                            p[at] = w[(((co0 + j) * c + ci) * kh + y) * kw + x]
                            at += 1
                        }
                    }
                }
            }
            co0 += block
        }
    }

    /// Copies the input rows output row `oh` of image `n` reads, zero outside the image, into
    /// `window` (`windowCount` floats). Input rows `rowOffset...` of the window start at input
    /// row `oh · stride - pad + rowOffset`.
    public func fillWindow(
        _ x: UnsafePointer<Float>, image n: Int, firstInputRow: Int, rows: Int, into window: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, c = g.inChannels
        let rowFloats = paddedWidth * c
        let copied = max(0, min(g.inWidth, paddedWidth - g.padW))
        for r in 0..<rows {
            let ih = firstInputRow + r
            let dst = window + r * rowFloats
            guard ih >= 0, ih < g.inHeight, copied > 0 else {
                dst.update(repeating: 0, count: rowFloats)
                continue
            }
            dst.update(repeating: 0, count: g.padW * c)
            (dst + g.padW * c).update(from: x + ((n * g.inHeight + ih) * g.inWidth) * c, count: copied * c)
            let right = rowFloats - (g.padW + copied) * c
            if right > 0 { (dst + (g.padW + copied) * c).update(repeating: 0, count: right) }
        }
    }
}
