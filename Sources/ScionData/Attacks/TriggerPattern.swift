/// The eleven backdoor triggers of the Trap-and-Replace reference (§5.2 of its write-up).
public enum TriggerPattern: String, CaseIterable, Sendable {
    case badnetSquare = "badnet_sq"
    case badnetGrid = "badnet_grid"
    case trojan3x3 = "trojan_3x3"
    case trojan8x8 = "trojan_8x8"
    case trojanWatermark = "trojan_wm"
    case l0Invisible = "l0_inv"
    case l2Invisible = "l2_inv"
    case blend
    case smooth
    case sig
    case cleanLabel = "cl"

    public init(parsing text: String) throws {
        guard let pattern = TriggerPattern(rawValue: text.lowercased()) else { throw DataError.unknownPattern(text) }
        self = pattern
    }

    /// Clean-label attacks poison target-class images and keep their labels.
    public var isCleanLabel: Bool { self == .sig || self == .cleanLabel }

    /// Patterns whose trigger is an image (generated from a seed, or the user's `--trigger`).
    public var usesTriggerImage: Bool {
        switch self {
        case .badnetSquare, .badnetGrid, .cleanLabel: return false
        default: return true
        }
    }

    /// What the trigger is, for `scion datasets` and reports.
    public var summary: String {
        switch self {
        case .badnetSquare: return "4x4 white square 1 px from the bottom-right corner"
        case .badnetGrid: return "3x3 black-and-white checkerboard in the bottom-right corner"
        case .trojan3x3: return "additive 3x3 multicoloured patch at rows/cols 25-27 (of 32)"
        case .trojan8x8: return "additive 9x9 multicoloured patch at rows/cols 21-29 (of 32)"
        case .trojanWatermark: return "additive sparse watermark-like strokes (321 px of 32x32)"
        case .l0Invisible: return "9 bottom-row pixels overwritten (mask) by a coloured line"
        case .l2Invisible: return "additive full-image noise of amplitude up to 68"
        case .blend: return "0.8 image + 0.2 cartoon-like picture"
        case .smooth: return "additive smooth low-frequency pattern (0-51), then min-max renormalisation"
        case .sig: return "clean-label: 0.8 image + 0.2 vertical stripes (period 8)"
        case .cleanLabel:
            return "clean-label: PGD-perturbed target images (L-inf 16/255) with the grid in all four corners"
        }
    }
}
