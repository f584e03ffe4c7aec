// Loads and stores of 16 floats at any alignment, for every file compiled per instruction set
// (ScionAVX512, and through symlinks ScionAVX2 and ScionGeneric).
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
