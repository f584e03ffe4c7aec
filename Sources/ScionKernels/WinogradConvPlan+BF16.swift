import ScionBF16

/// The nearest bfloat16 to `f` (ties to even) in the low 16 bits; NaN stays NaN.
@inline(__always)
func bfloat16Bits(_ f: Float) -> UInt32 {
    let bits = f.bitPattern
    if f.isNaN { return (bits >> 16) | 0x40 }
    return (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16
}

extension WinogradConvPlan {
    /// Words of BF16 weights: one `[C/2][O]` matrix of channel pairs per position.
    var packedPairsCount: Int { positions * geometry.inChannels / 2 * geometry.outChannels }

    /// Rounds weights packed by `pack` to the BF16 products' layout (ScionBF16's
    /// `BF16Products`): per position and block of output channels, `[C/2][block]` words pairing
    /// input channels 2j (low half) and 2j + 1 (high half).
    func packPairs(from packed: UnsafePointer<Float>, into p: UnsafeMutablePointer<UInt32>) {
        let c = geometry.inChannels, o = geometry.outChannels
        for xi in 0..<positions {
            let source = packed + xi * c * o, target = p + xi * c / 2 * o
            var co = 0
            while co < o {
                let block = BF16Products.blockSize(remaining: o - co)
                precondition(block == Microkernels.blockSize(remaining: o - co), "BF16 runs with the AVX-512 blocks")
                for j in 0..<c / 2 {
                    for l in 0..<block {
                        let low = source[co * c + 2 * j * block + l], high = source[co * c + (2 * j + 1) * block + l]
                        target[co * c / 2 + j * block + l] = bfloat16Bits(low) | bfloat16Bits(high) << 16
                    }
                }
                co += block
            }
        }
    }
}
