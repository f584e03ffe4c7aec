import Testing
import ScionGraph

/// Nodes read through `OpView` get their defaults and input names from the op's schema.
struct OpViewTests {
    @Test func omittedAttributesTakeTheSchemaDefaults() throws {
        let conv = Node(name: "c", op: .conv2d, inputs: ["x", "w"], outputs: ["y"]).view
        let schema = try #require(OpRegistry.schema(for: .conv2d))
        #expect(conv.ints("stride") == [1, 1] && conv.ints("padding") == [0, 0] && conv.int("groups") == 1)
        #expect(conv.attribute("dilation") == schema.attributeSpec("dilation")?.defaultValue)
        let set = Node(
            name: "c", op: .conv2d, inputs: ["x", "w"], outputs: ["y"], attributes: ["stride": .ints([2, 2])]
        ).view
        #expect(set.ints("stride") == [2, 2])
    }

    @Test func optionalInputsAreFoundByName() {
        let plain = Node(name: "c", op: .conv2d, inputs: ["x", "w"], outputs: ["y"]).view
        #expect(plain.input("bias") == nil && plain.input("residual") == nil && plain.input("weight") == "w")
        let biased = Node(name: "c", op: .conv2d, inputs: ["x", "w", "b"], outputs: ["y"]).view
        #expect(biased.input("bias") == "b" && biased.argument("bias", in: [10, 20, 30]) == 30)
    }

    /// The fused ops say by attributes which of bias and residual are present.
    @Test func fusedOpsLayOutInputsByTheirAttributes() {
        let residualOnly = Node(
            name: "f", op: .fusedConv2d, inputs: ["x", "w", "r"], outputs: ["y"],
            attributes: ["has_bias": .bool(false), "has_residual": .bool(true)]
        ).view
        #expect(residualOnly.inputNames == ["x", "weight", "residual"])
        #expect(residualOnly.input("bias") == nil && residualOnly.input("residual") == "r")
        let masked = Node(
            name: "g", op: .batchNormTrainGrad, inputs: ["dy", "x", "s", "m", "v", "b"], outputs: ["dx", "ds", "db"],
            attributes: ["activation": .string("relu")]
        ).view
        #expect(masked.input("bias") == "b" && masked.input("residual") == nil && masked.activation == .relu)
    }

    @Test func poolingWindowsDefaultToTheKernel() {
        let pool = Node(name: "p", op: .avgPool2d, inputs: ["x"], outputs: ["y"], attributes: ["kernel": .ints([3, 2])])
            .view
        #expect(pool.windowStride == [3, 2] && pool.windowDilation == [1, 1] && pool.bool("count_include_pad"))
        #expect(pool.activation == .none)
    }
}
