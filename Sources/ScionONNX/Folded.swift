import ScionGraph

/// A small integer tensor known at import time: a shape, axes, pads. Values are row-major; a
/// nil element is the batch extent, whose size is known only at run time.
struct Folded: Equatable {
    var shape: [Int]
    var values: [Int?]

    init(shape: [Int], values: [Int?]) {
        self.shape = shape
        self.values = values
    }

    /// A 1-D tensor.
    init(_ values: [Int?]) { self.init(shape: [values.count], values: values) }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in shape.indices.dropLast().reversed() { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }
}

/// The ONNX ops on folded tensors, each as the operator spec defines it.
enum FoldedShapes {
    static func squeezed(_ shape: [Int], axes: [Int]?, unsqueeze: Bool) throws -> [Int] {
        if unsqueeze {
            guard let axes else { throw ONNXError.invalid("Unsqueeze needs axes") }
            let rank = shape.count + axes.count
            var out = shape
            for axis in axes.map({ $0 < 0 ? $0 + rank : $0 }).sorted() {
                guard axis >= 0, axis <= out.count else {
                    throw ONNXError.invalid("Unsqueeze axis \(axis) out of range")
                }
                out.insert(1, at: axis)
            }
            return out
        }
        let drop = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { $0 < 0 ? $0 + shape.count : $0 })
        guard drop.allSatisfy({ shape.indices.contains($0) && shape[$0] == 1 }) else {
            throw ONNXError.invalid("Squeeze of an axis that is not 1 in \(shape)")
        }
        return shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
    }

    static func concat(_ parts: [Folded], axis: Int) throws -> Folded {
        guard let first = parts.first else { throw ONNXError.invalid("Concat of nothing") }
        let rank = max(first.shape.count, 1)
        guard (axis < 0 ? axis + rank : axis) == 0,
            parts.allSatisfy({ Array($0.shape.dropFirst()) == Array(first.shape.dropFirst()) })
        else { throw ONNXError.invalid("Concat of folded tensors along axis \(axis) of \(parts.map(\.shape))") }
        let values = parts.flatMap(\.values)
        let rows = parts.reduce(0) { $0 + ($1.shape.first ?? 1) }
        return Folded(shape: [rows] + first.shape.dropFirst(), values: values)
    }

    /// Gather along axis 0.
    static func gather(_ x: Folded, indices: Folded, axis: Int) throws -> Folded {
        guard axis == 0 || axis == -x.shape.count, let rows = x.shape.first else {
            throw ONNXError.invalid("Gather of folded tensors along axis \(axis)")
        }
        let row = x.values.count / max(rows, 1)
        var values: [Int?] = []
        for index in indices.values {
            guard let i = index.map({ $0 < 0 ? $0 + rows : $0 }), (0..<rows).contains(i) else {
                throw ONNXError.invalid("Gather index \(index.map(String.init) ?? "N") out of range for \(rows) rows")
            }
            values += x.values[(i * row)..<((i + 1) * row)]
        }
        return Folded(shape: indices.shape + x.shape.dropFirst(), values: values)
    }

    static func reshape(_ x: Folded, to target: [Int], allowZero: Bool) throws -> Folded {
        var shape = target.enumerated().map { i, d in d == 0 && !allowZero && i < x.shape.count ? x.shape[i] : d }
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let rest = shape.firstIndex(of: -1) { shape[rest] = known == 0 ? 0 : x.values.count / known }
        guard ShapeRules.elementCount(shape) == x.values.count else {
            throw ONNXError.invalid("cannot reshape a folded \(x.shape) tensor to \(target)")
        }
        return Folded(shape: shape, values: x.values)
    }

    static func transpose(_ x: Folded, perm: [Int]) throws -> Folded {
        guard perm.sorted() == Array(x.shape.indices) else {
            throw ONNXError.invalid("Transpose perm \(perm) does not fit \(x.shape)")
        }
        let shape = perm.map { x.shape[$0] }
        let inStrides = Folded.strides(x.shape), outStrides = Folded.strides(shape)
        let values = (0..<x.values.count).map { flat -> Int? in
            var source = 0
            for (axis, p) in perm.enumerated() { source += (flat / outStrides[axis] % shape[axis]) * inStrides[p] }
            return x.values[source]
        }
        return Folded(shape: shape, values: values)
    }

    /// Elements `start`, `start + step`, ... before `end` along `axis`, clamped as ONNX's Slice.
    static func slice(_ x: Folded, axis: Int, start: Int, end: Int, step: Int) throws -> Folded {
        guard x.shape.indices.contains(axis), step != 0 else {
            throw ONNXError.invalid("Slice along axis \(axis) with step \(step) of \(x.shape)")
        }
        let n = x.shape[axis]
        func clamp(_ v: Int) -> Int {
            let w = v < 0 ? v + n : v
            return step > 0 ? min(max(w, 0), n) : min(max(w, -1), n - 1)
        }
        let picked = Array(stride(from: clamp(start), to: clamp(end), by: step))
        var shape = x.shape
        shape[axis] = picked.count
        let strides = Folded.strides(x.shape), outStrides = Folded.strides(shape)
        let count = ShapeRules.elementCount(shape) ?? 0
        let values = (0..<count).map { flat -> Int? in
            var source = 0
            for d in shape.indices {
                let i = flat / outStrides[d] % shape[d]
                source += (d == axis ? picked[i] : i) * strides[d]
            }
            return x.values[source]
        }
        return Folded(shape: shape, values: values)
    }
}
