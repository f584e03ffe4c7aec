/// `pad`: a constant border around the two spatial axes of an NCHW tensor; negative pads crop
/// (ONNX `Pad` in constant mode over H and W, `F.pad(x, (left, right, top, bottom), value=v)`).
/// Its gradient is the same op with the pads negated.
extension OpRegistry {
    static let pad = OpSchema(
        .pad, inputs: ["x"],
        attributes: [
            AttributeSpec(
                "pads", .ints,
                check: { v in
                    guard case .ints(let p) = v, p.count == 4 else {
                        return "expected 4 integers: top, left, bottom, right"
                    }
                    return nil
                }),
            AttributeSpec("value", .float, default: 0, check: Checks.finite)
        ]
    ) { c in
        let x = try c.input(0, rank: 4)
        let p = c.ints("pads")
        guard let h = x.shape[2].fixedValue, let w = x.shape[3].fixedValue else {
            throw c.fail("spatial extents must be fixed")
        }
        let oh = h + p[0] + p[2], ow = w + p[1] + p[3]
        guard oh >= 1, ow >= 1 else { throw c.fail("pads \(p) leave nothing of \(x)") }
        return [TensorType(x.dtype, [x.shape[0], x.shape[1], .fixed(oh), .fixed(ow)])]
    }
}

extension GraphBuilder {
    /// Pads (or, with negative pads, crops) the spatial axes: `[top, left, bottom, right]`.
    public mutating func pad(_ x: Value, _ pads: [Int], value: Double = 0, name: String? = nil) -> Value {
        apply1(.pad, [x], attributes: ["pads": .ints(pads), "value": .float(value)], name: name)
    }
}
