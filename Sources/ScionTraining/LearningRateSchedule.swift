#if canImport(Glibc)
    import Glibc
#endif

/// Learning rate per epoch, stepped once per epoch as the reference does.
public enum LearningRateSchedule: Sendable, Equatable {
    /// `CosineAnnealingLR(T_max = epochs)`, minimum 0: `base · (1 + cos(π·e/epochs)) / 2`.
    case cosine(epochs: Int)
    /// `MultiStepLR`: multiplied by `gamma` at each milestone epoch.
    case multistep(milestones: [Int], gamma: Double)
    case constant
    /// `schedule` from its epoch `start` on: one schedule shared by runs that continue each other.
    indirect case continued(LearningRateSchedule, from: Int)

    /// The rate for epoch `epoch` (0-based) given the base rate.
    public func rate(base: Double, epoch: Int) -> Double {
        switch self {
        case .cosine(let epochs):
            return base * (1 + cos(Double.pi * Double(epoch) / Double(max(epochs, 1)))) / 2
        case .multistep(let milestones, let gamma):
            return base * pow(gamma, Double(milestones.filter { epoch >= $0 }.count))
        case .constant:
            return base
        case .continued(let schedule, let start):
            return schedule.rate(base: base, epoch: start + epoch)
        }
    }

    /// The reference's `--decay` choices: `cos` (default) or `multisteps` ([0.5E, 0.75E] × 0.1).
    public static func named(_ name: String, epochs: Int) -> LearningRateSchedule? {
        switch name {
        case "cos", "cosine": return .cosine(epochs: epochs)
        case "multisteps", "multistep": return .multistep(milestones: [epochs / 2, epochs * 3 / 4], gamma: 0.1)
        case "constant", "none": return .constant
        default: return nil
        }
    }
}
