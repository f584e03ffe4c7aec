import ScionGraph
import ScionKernels

/// Builds kernel geometry from a node's attributes and its resolved input and output shapes.
public enum Geometry {
    public static func conv(_ node: OpView, _ x: [Int], _ y: [Int], _ weight: TensorType) -> ConvGeometry {
        let w = weight.shape.compactMap(\.fixedValue)
        let s = node.ints("stride"), p = node.ints("padding"), d = node.ints("dilation")
        return ConvGeometry(
            batch: x[0], inChannels: x[1], inHeight: x[2], inWidth: x[3], outChannels: y[1], outHeight: y[2],
            outWidth: y[3], kernelHeight: w[2], kernelWidth: w[3], strideH: s[0], strideW: s[1], padH: p[0],
            padW: p[1], dilationH: d[0], dilationW: d[1], groups: node.int("groups"))
    }

    public static func pool(_ node: OpView, _ x: [Int], _ y: [Int]) -> ConvGeometry {
        let k = node.ints("kernel"), s = node.windowStride, p = node.ints("padding"), d = node.windowDilation
        return ConvGeometry(
            batch: x[0], inChannels: x[1], inHeight: x[2], inWidth: x[3], outChannels: x[1], outHeight: y[2],
            outWidth: y[3], kernelHeight: k[0], kernelWidth: k[1], strideH: s[0], strideW: s[1], padH: p[0],
            padW: p[1], dilationH: d[0], dilationW: d[1])
    }
}
