/// How a convolution runs, chosen once per layer: on CPUs with the microkernels, 3x3 stride-1
/// layers with at least 7x7 outputs as Winograd (`WinogradConvPlan`), most others as direct
/// convolutions; else (or when disallowed) im2col and OpenBLAS sgemm.
public enum ConvAlgorithm: Sendable {
    case gemm
    case direct(DirectConvPlan)
    case winograd(WinogradConvPlan)

    static func choose(_ g: ConvGeometry, allowDirect: Bool, allowWinograd: Bool, winogradTile: Int? = nil)
        -> ConvAlgorithm
    {
        if allowDirect, allowWinograd, WinogradConvPlan.enabled, let plan = WinogradConvPlan(g, tile: winogradTile) {
            return .winograd(plan)
        }
        if allowDirect, DirectConvPlan.cpuSupported, let plan = DirectConvPlan(g) { return .direct(plan) }
        return .gemm
    }

    /// `gemm`, `direct` or `winograd`, for tests and reports (`winogradTile` tells F(2x2) from F(4x4)).
    public var name: String {
        switch self {
        case .gemm: "gemm"
        case .direct: "direct"
        case .winograd: "winograd"
        }
    }

    /// Winograd's outputs per tile side, nil for the other algorithms.
    public var winogradTile: Int? {
        if case .winograd(let plan) = self { plan.tile } else { nil }
    }
}
