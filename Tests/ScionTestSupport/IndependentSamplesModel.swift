import ScionGraph

/// A network without BatchNorm and dropout (convolution, ReLU, global pooling, linear) over 1x8x8
/// images in two classes: its samples do not interact, so data-parallel ranks each at a shard of
/// the batch must equal one process at the whole batch.
public func independentSamplesModel(convChannels: Int) throws -> Model {
    var b = GraphBuilder(name: "independent-samples")
    let x = b.input("image", .batched([1, 8, 8]))
    let h = b.flatten(b.globalAvgPool(b.relu(b.conv2d(x, out: convChannels, kernel: 3, padding: 1, name: "conv"))))
    b.output(b.linear(h, out: 2, name: "fc"), as: "logits")
    let net = try b.finish()
    return Model(
        graph: net.graph, parameters: net.initialParameters(seed: 2),
        metadata: ModelMetadata(
            modelName: "independent-samples", labels: ["0", "1"], input: InputSpec(channels: 1, height: 8, width: 8)))
}
