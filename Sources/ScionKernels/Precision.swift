import CScionSupport

/// The arithmetic of the convolutions' matrix products. FP32 is the default and the reference;
/// `bf16` rounds the Winograd products' inputs (transformed weights and tiles) to bfloat16 and
/// keeps FP32 sums (VDPBF16PS), where the CPU has AVX-512 BF16. Everything else (transforms,
/// direct and GEMM convolutions, BatchNorm, activations) stays FP32.
public enum Precision: String, Sendable, CaseIterable {
    case fp32, bf16

    /// Whether this process runs the BF16 kernels: the CPU has AVX-512 BF16 and runs the
    /// AVX-512 microkernels and Winograd (neither turned off by `SCION_KERNELS`).
    public static let bf16Available: Bool =
        MicrokernelISA.active == .avx512 && WinogradConvPlan.enabled && scion_cpu_has_avx512_bf16() != 0
}
