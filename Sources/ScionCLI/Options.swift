import ArgumentParser
import Foundation
import ScionKernels

/// Parses `3x32x32` into `[3, 32, 32]`.
struct ShapeArgument: ExpressibleByArgument {
    let dims: [Int]

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        dims = parts.compactMap { $0 }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// Writes `object` as pretty, key-sorted JSON to standard output.
func printJSON<T: Encodable>(_ object: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(object), as: UTF8.self))
}

/// A message on standard error (progress, warnings), so standard output stays machine-readable.
/// Under mpirun only rank 0 speaks.
func note(_ message: String) {
    guard ProcessGroup.isRoot else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// An error the user caused and can fix, shown as is.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--precision`: the convolutions' arithmetic (`Precision`).
struct PrecisionOption: ParsableArguments {
    @Option(
        help:
            "Arithmetic of the convolutions: fp32 (default, the reference) or bf16 (Winograd products with bf16 inputs and FP32 sums; needs a CPU with AVX-512 BF16)."
    )
    var precision: String = "fp32"

    /// The precision asked for, or a usage error when it is unknown or the CPU cannot run it.
    func checked() throws -> Precision {
        guard let chosen = Precision(rawValue: precision.lowercased()) else {
            throw UsageError("--precision is fp32 or bf16, not '\(precision)'")
        }
        if chosen == .bf16, !Precision.bf16Available {
            throw UsageError(
                "--precision bf16 needs a CPU with AVX-512 BF16 (Cooper Lake, Sapphire Rapids, Zen 4 or later) running the AVX-512 kernels; this one has none, or SCION_KERNELS turned them off"
            )
        }
        return chosen
    }
}
