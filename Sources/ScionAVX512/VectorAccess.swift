// Loads and stores of 16 floats at any alignment, for every file compiled per instruction set
// (ScionAVX512, and through symlinks ScionAVX2, ScionGeneric and ScionBF16).
import ScionTiles

@inline(__always)
func load(_ p: UnsafePointer<Float>) -> Vector16 { UnsafeRawPointer(p).loadUnaligned(as: Vector16.self) }

@inline(__always)
func store(_ v: Vector16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector16.self)
}

/// Stores `v`, or adds it to what `p` holds when `accumulate`.
@inline(__always)
func store(_ v: Vector16, _ p: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let raw = UnsafeMutableRawPointer(p)
    raw.storeBytes(of: accumulate ? v + raw.loadUnaligned(as: Vector16.self) : v, as: Vector16.self)
}

/// Stores the first `valid` (1...8) of eight pixel vectors, `stride` floats apart.
@inline(__always)
func store8(
    _ a0: Vector16, _ a1: Vector16, _ a2: Vector16, _ a3: Vector16, _ a4: Vector16, _ a5: Vector16, _ a6: Vector16,
    _ a7: Vector16,
    _ out: UnsafeMutablePointer<Float>, stride o: Int, valid: Int, accumulate: Bool
) {
    store(a0, out, accumulate: accumulate)
    if valid > 1 { store(a1, out + o, accumulate: accumulate) }
    if valid > 2 { store(a2, out + 2 * o, accumulate: accumulate) }
    if valid > 3 { store(a3, out + 3 * o, accumulate: accumulate) }
    if valid > 4 { store(a4, out + 4 * o, accumulate: accumulate) }
    if valid > 5 { store(a5, out + 5 * o, accumulate: accumulate) }
    if valid > 6 { store(a6, out + 6 * o, accumulate: accumulate) }
    if valid > 7 { store(a7, out + 7 * o, accumulate: accumulate) }
}
