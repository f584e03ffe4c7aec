import CScionSupport
import ScionAVX2
import ScionAVX512
import ScionGeneric
import ScionTiles

/// The activation a kernel's epilogue applies (defined beside the loops that apply it).
public typealias KernelActivation = ScionTiles.KernelActivation
/// A ReLU's derivative recomputed from a train-mode BatchNorm's input.
public typealias ActivationMask = ScionTiles.ActivationMask

/// The copy of the elementwise, BatchNorm and reduction loops this process runs: the one
/// compiled for the microkernels' instruction set (`MicrokernelISA.active`), or the generic
/// copy when there is none. Each call covers a row or a whole buffer, so calling through the
/// protocol costs nothing measurable.
public enum KernelLoops {
    public static let active: any ElementwiseLoops.Type = copy(for: MicrokernelISA.active)

    public static func copy(for isa: MicrokernelISA?) -> any ElementwiseLoops.Type {
        switch isa {
        case .avx512: ScionAVX512.Loops.self
        case .avx2: ScionAVX2.Loops.self
        case nil: ScionGeneric.Loops.self
        }
    }

    /// Every copy this CPU can run, by name (for tests that hold each against the reference).
    public static var runnable: [(name: String, loops: any ElementwiseLoops.Type)] {
        var copies: [(name: String, loops: any ElementwiseLoops.Type)] = [("generic", ScionGeneric.Loops.self)]
        if scion_cpu_has_avx2() != 0 { copies.append(("avx2", ScionAVX2.Loops.self)) }
        if scion_cpu_has_avx512() != 0 { copies.append(("avx512", ScionAVX512.Loops.self)) }
        return copies
    }
}
