/// The kernel side of Winograd F(m x m, 3x3): `U = G g Gᵀ` turns a 3x3 kernel into the
/// (m + 2) x (m + 2) values the transformed domain multiplies, and its adjoint `Gᵀ dU G` brings a
/// gradient back. Scalar: it runs once per weight update, over C·O kernels.
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

    /// `G k Gᵀ` of the row-major 3x3 `k`, row-major alpha x alpha into `u`.
    func forward(_ k: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        var t = SIMD32<Float>()  // G k: alpha x 3
        for i in 0..<alpha {
            for j in 0..<3 { t[i * 3 + j] = g[i * 3] * k[j] + g[i * 3 + 1] * k[3 + j] + g[i * 3 + 2] * k[6 + j] }
        }
        for i in 0..<alpha {
            for j in 0..<alpha {
                u[i * alpha + j] = t[i * 3] * g[j * 3] + t[i * 3 + 1] * g[j * 3 + 1] + t[i * 3 + 2] * g[j * 3 + 2]
            }
        }
    }

    /// `Gᵀ m G` of the row-major alpha x alpha `m`, row-major 3x3 into `k`: the adjoint of
    /// `forward`.
    func adjoint(_ m: UnsafePointer<Float>, into k: UnsafeMutablePointer<Float>) {
        var t = SIMD32<Float>()  // Gᵀ m: 3 x alpha
        for i in 0..<3 {
            for j in 0..<alpha {
                var sum: Float = 0
                for l in 0..<alpha { sum += g[l * 3 + i] * m[l * alpha + j] }
                t[i * alpha + j] = sum
            }
        }
        for i in 0..<3 {
            for j in 0..<3 {
                var sum: Float = 0
                for l in 0..<alpha { sum += t[i * alpha + l] * g[l * 3 + j] }
                k[i * 3 + j] = sum
            }
        }
    }
}
