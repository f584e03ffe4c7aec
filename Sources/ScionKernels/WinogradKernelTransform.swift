/// The kernel side of Winograd F(m x m, 3x3): `U = G g Gᵀ` turns a 3x3 kernel into the
/// (m + 2) x (m + 2) values the transformed domain multiplies, and its adjoint `Gᵀ dU G` brings a
/// gradient back. It runs after every weight update, over C·O kernels, so it transforms 16
/// kernels at a time, one per lane (the kernel tests hold the packed convolutions and the
/// weight gradient to the reference loops).
struct WinogradKernelTransform {
    /// `G`, (m + 2) rows of 3, row-major.
    let g: [Float]
    let alpha: Int

    /// F(2x2, 3x3): points 0, ±1. F(4x4, 3x3): points 0, ±1, ±2 (Lavin & Gray, 2016).
    init(tile: Int) {
        alpha = tile + 2
        g =
            tile == 2
            ? [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
            : [
                1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1
            ]
    }

    /// `G k Gᵀ` of 16 row-major 3x3 kernels: tap t of kernel l at `k[16t + l]`; position ξ
    /// (row-major alpha x alpha) of kernel l to `u[ξ · stride + l]`.
    func forward(lanes k: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, stride: Int) {
        g.withUnsafeBufferPointer { g in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 3 * alpha) { buffer in
                guard let t = buffer.baseAddress else { return }  // G k: alpha x 3
                let k0 = load16(k), k1 = load16(k + 16), k2 = load16(k + 32), k3 = load16(k + 48),
                    k4 = load16(k + 64), k5 = load16(k + 80), k6 = load16(k + 96), k7 = load16(k + 112),
                    k8 = load16(k + 128)
                for i in 0..<alpha {
                    let a = g[i * 3], b = g[i * 3 + 1], c = g[i * 3 + 2]
                    t[i * 3] = a * k0 + b * k3 + c * k6
                    t[i * 3 + 1] = a * k1 + b * k4 + c * k7
                    t[i * 3 + 2] = a * k2 + b * k5 + c * k8
                }
                for i in 0..<alpha {
                    for j in 0..<alpha {
                        let v = t[i * 3] * g[j * 3] + t[i * 3 + 1] * g[j * 3 + 1] + t[i * 3 + 2] * g[j * 3 + 2]
                        store16(v, u + (i * alpha + j) * stride)
                    }
                }
            }
        }
    }

    /// `Gᵀ m G` of 16 alpha x alpha matrices, the adjoint of `forward`: position ξ of matrix l at
    /// `m[ξ · stride + l]`; tap t of kernel l to `k[16t + l]`.
    func adjoint(lanes m: UnsafePointer<Float>, stride: Int, into k: UnsafeMutablePointer<Float>) {
        g.withUnsafeBufferPointer { g in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 3 * alpha) { buffer in
                guard let t = buffer.baseAddress else { return }  // Gᵀ m: 3 x alpha
                for i in 0..<3 * alpha { t[i] = SIMD16() }
                for l in 0..<alpha {
                    let a = g[l * 3], b = g[l * 3 + 1], c = g[l * 3 + 2]
                    for j in 0..<alpha {
                        let v = load16(m + (l * alpha + j) * stride)
                        t[j] += a * v
                        t[alpha + j] += b * v
                        t[2 * alpha + j] += c * v
                    }
                }
                for i in 0..<3 {
                    for j in 0..<3 {
                        var sum = SIMD16<Float>()
                        for l in 0..<alpha { sum += t[i * alpha + l] * g[l * 3 + j] }
                        store16(sum, k + (i * 3 + j) * 16)
                    }
                }
            }
        }
    }
}
