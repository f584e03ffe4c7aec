/// The ops of the IR, by name.
extension OpType {
    // Forward ops.
    public static let conv2d: OpType = "conv2d"
    public static let convTranspose2d: OpType = "conv_transpose2d"
    public static let batchNorm: OpType = "batch_norm"
    public static let instanceNorm: OpType = "instance_norm"
    public static let linear: OpType = "linear"
    public static let relu: OpType = "relu"
    public static let leakyRelu: OpType = "leaky_relu"
    public static let sigmoid: OpType = "sigmoid"
    public static let tanh: OpType = "tanh"
    public static let add: OpType = "add"
    public static let mul: OpType = "mul"
    public static let concat: OpType = "concat"
    public static let maxPool2d: OpType = "max_pool2d"
    public static let avgPool2d: OpType = "avg_pool2d"
    public static let globalAvgPool: OpType = "global_avg_pool"
    public static let flatten: OpType = "flatten"
    public static let reshape: OpType = "reshape"
    public static let dropout: OpType = "dropout"
    public static let softmax: OpType = "softmax"
    public static let pad: OpType = "pad"
}
