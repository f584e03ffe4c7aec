import ScionGraph
import ScionKernels

/// Builds kernel geometry from a node's attributes and its resolved input and output shapes.
public enum Geometry {
    public static func conv(_ node: Node, _ x: [Int], _ y: [Int], _ weight: TensorType) -> ConvGeometry {
        let w = weight.shape.compactMap(\.fixedValue)
        let s = node.ints("stride") ?? [1, 1], p = node.ints("padding") ?? [0, 0], d = node.ints("dilation") ?? [1, 1]
        return ConvGeometry(
            batch: x[0], inChannels: x[1], inHeight: x[2], inWidth: x[3], outChannels: y[1], outHeight: y[2],
            outWidth: y[3], kernelHeight: w[2], kernelWidth: w[3], strideH: s[0], strideW: s[1], padH: p[0],
            padW: p[1], dilationH: d[0], dilationW: d[1], groups: node.int("groups") ?? 1)
    }

    public static func pool(_ node: Node, _ x: [Int], _ y: [Int]) -> ConvGeometry {
        let k = node.ints("kernel") ?? [1, 1]
        let s = (node.ints("stride") ?? []).isEmpty ? k : node.ints("stride")!
        let p = node.ints("padding") ?? [0, 0], d = node.ints("dilation") ?? [1, 1]
        return ConvGeometry(
            batch: x[0], inChannels: x[1], inHeight: x[2], inWidth: x[3], outChannels: x[1], outHeight: y[2],
            outWidth: y[3], kernelHeight: k[0], kernelWidth: k[1], strideH: s[0], strideW: s[1], padH: p[0],
            padW: p[1], dilationH: d[0], dilationW: d[1])
    }
}
