/// The geometry of a 2-D convolution or pooling window: everything a kernel needs to know
/// besides the data.
public struct ConvGeometry: Hashable, Sendable {
    public var batch: Int
    public var inChannels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outChannels: Int
    public var outHeight: Int
    public var outWidth: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int
    public var dilationH: Int
    public var dilationW: Int
    public var groups: Int

    public init(
        batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, outHeight: Int,
        outWidth: Int, kernelHeight: Int, kernelWidth: Int, strideH: Int = 1, strideW: Int = 1,
        padH: Int = 0, padW: Int = 0, dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outChannels = outChannels
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideH = strideH
        self.strideW = strideW
        self.padH = padH
        self.padW = padW
        self.dilationH = dilationH
        self.dilationW = dilationW
        self.groups = groups
    }

    public var inPlane: Int { inHeight * inWidth }
    public var outPlane: Int { outHeight * outWidth }
    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Multiply-accumulates of the convolution for the whole batch.
    public var macs: Int { batch * outChannels * outPlane * inChannelsPerGroup * kernelHeight * kernelWidth }
    public var inputCount: Int { batch * inChannels * inPlane }
    public var outputCount: Int { batch * outChannels * outPlane }
}
