/// Shape arithmetic shared by the op schemas and the executors.
public enum ShapeRules {
    /// Output extent of a convolution or pooling window along one axis; nil when the window does
    /// not fit.
    public static func convOutput(
        _ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1, ceilMode: Bool = false
    ) -> Int? {
        let span = dilation * (kernel - 1) + 1
        let padded = size + 2 * padding - span
        guard padded >= 0, stride > 0 else { return nil }
        var out = padded / stride + 1
        if ceilMode {
            out = (padded + stride - 1) / stride + 1
            // PyTorch: the last window must start inside the input or the left padding.
            if (out - 1) * stride >= size + padding { out -= 1 }
        }
        return out
    }

    /// Output extent of a transposed convolution along one axis.
    public static func convTransposeOutput(
        _ size: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int, dilation: Int = 1
    ) -> Int? {
        let out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
        return out > 0 ? out : nil
    }

    /// Product of extents, or nil on overflow or a negative extent.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var total = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }
}

/// Reusable attribute checks.
enum Checks {
    static func ints(count: Int, min: Int) -> @Sendable (AttributeValue) -> String? {
        { value in
            guard case .ints(let v) = value, v.count == count, v.allSatisfy({ $0 >= min }) else {
                return "expected \(count) integers each at least \(min)"
            }
            return nil
        }
    }
    static func int(min: Int) -> @Sendable (AttributeValue) -> String? {
        { value in
            guard case .int(let v) = value, v >= min else { return "expected an integer at least \(min)" }
            return nil
        }
    }
    static let probability: @Sendable (AttributeValue) -> String? = { value in
        guard case .float(let p) = value, p >= 0, p < 1 else { return "expected a probability in [0, 1)" }
        return nil
    }
    static let positive: @Sendable (AttributeValue) -> String? = { value in
        guard case .float(let v) = value, v > 0, v.isFinite else { return "expected a positive number" }
        return nil
    }
    static let finite: @Sendable (AttributeValue) -> String? = { value in
        guard case .float(let v) = value, v.isFinite else { return "expected a finite number" }
        return nil
    }
}
