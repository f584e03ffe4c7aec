import CScionSupport
import Foundation
import ScionAVX2
import ScionAVX512
import ScionTiles

/// The instruction sets the convolution microkernels are compiled for (modules ScionAVX512 and
/// ScionAVX2, built from the same files). `active` is what this process runs: the widest the CPU
/// has, unless the `SCION_KERNELS` environment variable (comma-separated words) says otherwise:
/// `avx2` runs the AVX2 copy on an AVX-512 CPU, `generic` runs no microkernel at all (im2col +
/// OpenBLAS sgemm), `direct` keeps them but turns Winograd off, `winograd2` keeps Winograd to
/// F(2x2, 3x3). The last three are for comparisons.
public enum MicrokernelISA: String, Sendable {
    case avx512, avx2

    /// `SCION_KERNELS`, as it was when the process first asked.
    static let environment = getenv("SCION_KERNELS").map { String(cString: $0) } ?? ""

    /// Nil when the CPU has neither (or `SCION_KERNELS=generic`).
    public static let active: MicrokernelISA? = choose(
        environment: environment, hasAVX512: scion_cpu_has_avx512() != 0, hasAVX2: scion_cpu_has_avx2() != 0)

    /// Whether `SCION_KERNELS` turns Winograd off.
    static let winogradDisabled: Bool = words(environment).contains("direct")
    /// Whether `SCION_KERNELS` keeps Winograd to F(2x2, 3x3).
    public static let winograd4Disabled: Bool = words(environment).contains("winograd2")

    /// The choice `active` makes, given `SCION_KERNELS` and what the CPU has.
    public static func choose(environment: String, hasAVX512: Bool, hasAVX2: Bool) -> MicrokernelISA? {
        let asked = words(environment)
        if asked.contains("generic") { return nil }
        if hasAVX512 && !asked.contains("avx2") { return .avx512 }
        return hasAVX2 ? .avx2 : nil
    }

    static func words(_ text: String) -> Set<String> {
        Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}

/// Calls the copy of each microkernel compiled for `MicrokernelISA.active`; the plans that use
/// them are only built when it is set. The calls cover a row of pixels or more, so the branch
/// costs nothing measurable.
enum Microkernels {
    static let avx512 = MicrokernelISA.active == .avx512

    static func blockSize(remaining: Int) -> Int {
        avx512
            ? ScionAVX512.DirectConvolution.blockSize(remaining: remaining)
            : ScionAVX2.DirectConvolution.blockSize(remaining: remaining)
    }

    static func forwardRow(
        window: UnsafePointer<Float>, weights: UnsafePointer<Float>, tile: ForwardTile, outChannels: Int, pixels: Int,
        out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        if avx512 {
            ScionAVX512.DirectConvolution.forwardRow(
                window: window, weights: weights, tile: tile, outChannels: outChannels, pixels: pixels, out: out,
                accumulate: accumulate)
        } else {
            ScionAVX2.DirectConvolution.forwardRow(
                window: window, weights: weights, tile: tile, outChannels: outChannels, pixels: pixels, out: out,
                accumulate: accumulate)
        }
    }

    static func weightGradient(
        window: UnsafePointer<Float>, dy: UnsafePointer<Float>, tile: GradientTile, dw: UnsafeMutablePointer<Float>
    ) {
        if avx512 {
            ScionAVX512.DirectConvolution.weightGradient(window: window, dy: dy, tile: tile, dw: dw)
        } else {
            ScionAVX2.DirectConvolution.weightGradient(window: window, dy: dy, tile: tile, dw: dw)
        }
    }

    /// The Winograd tile transforms of F(`tile`x`tile`, 3x3), `tile` 2 or 4 (their contracts are
    /// on `WinogradTransforms` and `WinogradTransforms43`).
    static func winogradInputTileRow(
        tile: Int, _ window: UnsafePointer<Float>, rowStride: Int, channels: Int, tiles: Int,
        into v: UnsafeMutablePointer<Float>, matrixStride: Int
    ) {
        switch (avx512, tile) {
        case (true, 4):
            ScionAVX512.WinogradTransforms43.inputTileRow(
                window, rowStride: rowStride, channels: channels, tiles: tiles, into: v, matrixStride: matrixStride)
        case (false, 4):
            ScionAVX2.WinogradTransforms43.inputTileRow(
                window, rowStride: rowStride, channels: channels, tiles: tiles, into: v, matrixStride: matrixStride)
        case (true, _):
            ScionAVX512.WinogradTransforms.inputTileRow(
                window, rowStride: rowStride, channels: channels, tiles: tiles, into: v, matrixStride: matrixStride)
        case (false, _):
            ScionAVX2.WinogradTransforms.inputTileRow(
                window, rowStride: rowStride, channels: channels, tiles: tiles, into: v, matrixStride: matrixStride)
        }
    }

    static func winogradOutputTileRow(
        tile: Int, _ m: UnsafePointer<Float>, matrixStride: Int, channels: Int, to out: UnsafeMutablePointer<Float>,
        rowStride: Int, rows: Int, width: Int, accumulate: Bool, bias: UnsafePointer<Float>?, slope: Float?
    ) {
        switch (avx512, tile) {
        case (true, 4):
            ScionAVX512.WinogradTransforms43.outputTileRow(
                m, matrixStride: matrixStride, channels: channels, to: out, rowStride: rowStride, rows: rows,
                width: width, accumulate: accumulate, bias: bias, slope: slope)
        case (false, 4):
            ScionAVX2.WinogradTransforms43.outputTileRow(
                m, matrixStride: matrixStride, channels: channels, to: out, rowStride: rowStride, rows: rows,
                width: width, accumulate: accumulate, bias: bias, slope: slope)
        case (true, _):
            ScionAVX512.WinogradTransforms.outputTileRow(
                m, matrixStride: matrixStride, channels: channels, to: out, rowStride: rowStride, rows: rows,
                width: width, accumulate: accumulate, bias: bias, slope: slope)
        case (false, _):
            ScionAVX2.WinogradTransforms.outputTileRow(
                m, matrixStride: matrixStride, channels: channels, to: out, rowStride: rowStride, rows: rows,
                width: width, accumulate: accumulate, bias: bias, slope: slope)
        }
    }

    static func winogradGradientTile(
        tile: Int, _ dy: UnsafePointer<Float>, rowStride: Int, channels: Int, rows: Int, columns: Int,
        into v: UnsafeMutablePointer<Float>, matrixStride: Int
    ) {
        switch (avx512, tile) {
        case (true, 4):
            ScionAVX512.WinogradTransforms43.gradientTile(
                dy, rowStride: rowStride, channels: channels, rows: rows, columns: columns, into: v,
                matrixStride: matrixStride)
        case (false, 4):
            ScionAVX2.WinogradTransforms43.gradientTile(
                dy, rowStride: rowStride, channels: channels, rows: rows, columns: columns, into: v,
                matrixStride: matrixStride)
        case (true, _):
            ScionAVX512.WinogradTransforms.gradientTile(
                dy, rowStride: rowStride, channels: channels, rows: rows, columns: columns, into: v,
                matrixStride: matrixStride)
        case (false, _):
            ScionAVX2.WinogradTransforms.gradientTile(
                dy, rowStride: rowStride, channels: channels, rows: rows, columns: columns, into: v,
                matrixStride: matrixStride)
        }
    }

    static func planar16x4x2(
        window: UnsafePointer<Float>, rowStride: Int, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
        taps: Int
    ) -> (Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16) {
        avx512
            ? ScionAVX512.PlanarConvolution.accumulate16x4x2(
                window: window, rowStride: rowStride, offsets: offsets, weights: weights, taps: taps)
            : ScionAVX2.PlanarConvolution.accumulate16x4x2(
                window: window, rowStride: rowStride, offsets: offsets, weights: weights, taps: taps)
    }
}
