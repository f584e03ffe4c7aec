import ScionGraph

/// The largest absolute elementwise difference of two arrays; infinity when their counts differ.
public func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The same for tensors; infinity when either is missing or their shapes differ.
public func maxDifference(_ a: Tensor?, _ b: Tensor?) -> Float {
    guard let a, let b, a.shape == b.shape else { return .infinity }
    return maxDifference(a.floats, b.floats)
}
