import ScionGraph

/// A network family and its size, parsed from the names the CLI accepts:
/// `wrn16-1` (any `wrn{depth}-{k}`), `resnet18`, `resnet34`, `cnn-small`.
public enum Architecture: Hashable, Sendable, CustomStringConvertible {
    case wideResNet(depth: Int, widen: Int)
    case resNet18
    case resNet34
    case cnnSmall

    public static let names = ["wrn16-1", "wrn{depth}-{k}", "resnet18", "resnet34", "cnn-small"]

    public init(parsing text: String) throws {
        let name = text.lowercased()
        switch name {
        case "resnet18": self = .resNet18
        case "resnet34": self = .resNet34
        case "cnn-small": self = .cnnSmall
        default:
            let parts = name.dropFirst(3).split(separator: "-")
            guard name.hasPrefix("wrn"), parts.count == 2, let depth = Int(parts[0]), let widen = Int(parts[1])
            else { throw ZooError.unknownArchitecture(text) }
            guard depth >= 10, (depth - 4) % 6 == 0, widen >= 1, widen <= 16 else {
                throw ZooError.invalidSize("WideResNet depth must be 6n+4 (at least 10) and k in 1...16, got \(text)")
            }
            self = .wideResNet(depth: depth, widen: widen)
        }
    }

    public var description: String {
        switch self {
        case .wideResNet(let d, let k): return "wrn\(d)-\(k)"
        case .resNet18: return "resnet18"
        case .resNet34: return "resnet34"
        case .cnnSmall: return "cnn-small"
        }
    }

    /// The cut point the reference uses by default (`--stem`): 5 for WRN16, 31 for ResNet-34.
    public var defaultStem: Int {
        switch self {
        case .wideResNet(let depth, _): return 3 * ((depth - 4) / 6) - 1
        case .resNet18: return 15
        case .resNet34: return 31
        case .cnnSmall: return 3
        }
    }
}

/// Why a network could not be built.
public enum ZooError: Error, Equatable, CustomStringConvertible {
    case unknownArchitecture(String)
    case invalidSize(String)
    case unknownStem(arch: String, stem: Int, available: [Int])

    public var description: String {
        switch self {
        case .unknownArchitecture(let name):
            return "unknown architecture '\(name)'; choose one of: \(Architecture.names.joined(separator: ", "))"
        case .invalidSize(let problem): return problem
        case .unknownStem(let arch, let stem, let available):
            return "\(arch) has no stem \(stem); it declares \(available.map(String.init).joined(separator: ", "))"
        }
    }
}

/// Builds the reference networks.
///
/// ```swift
/// let net = try Zoo.classifier(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 32, 32])
/// net.graph.parameterCount  // 175_626
/// ```
public enum Zoo {
    /// A plain classifier with input `image` and output `logits`, cut points `stem{k}` declared.
    public static func classifier(_ arch: Architecture, classes: Int, input: [Int]) throws -> NetworkDefinition {
        guard classes >= 1, input.count == 3, input.allSatisfy({ $0 >= 1 }) else {
            throw ZooError.invalidSize("need at least one class and an input shape CxHxW, got \(input)")
        }
        var b = GraphBuilder(name: arch.description)
        let x = b.input("image", .batched(input))
        let logits = body(arch, &b, x, classes: classes)
        b.output(logits, as: "logits")
        return try b.finish()
    }

    /// Adds the whole network for `arch` after `x` and returns the logits.
    static func body(_ arch: Architecture, _ b: inout GraphBuilder, _ x: GraphBuilder.Value, classes: Int)
        -> GraphBuilder.Value
    {
        switch arch {
        case .wideResNet(let depth, let widen):
            return WideResNet.build(&b, x, depth: depth, widen: widen, classes: classes)
        case .resNet18: return ResNet.build(&b, x, layers: [2, 2, 2, 2], imageNetStem: false, classes: classes)
        case .resNet34: return ResNet.build(&b, x, layers: [3, 4, 6, 3], imageNetStem: true, classes: classes)
        case .cnnSmall: return SmallCNN.build(&b, x, classes: classes)
        }
    }
}
