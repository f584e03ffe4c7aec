import Foundation

/// One class of a classifier's answer, as `scion predict` prints it and the server returns it.
public struct RankedClass: Sendable, Encodable, Equatable {
    public let label: String
    public let index: Int
    public let probability: Float
}

extension RankedClass {
    /// The `k` most probable classes of one image's logits (softmax), best first; a class is
    /// named by `labels` where it has a name and by its index otherwise.
    public static func top(_ k: Int, of logits: ArraySlice<Float>, labels: [String]) -> [RankedClass] {
        let m = logits.max() ?? 0
        let e = logits.map { expf($0 - m) }
        let sum = e.reduce(0, +)
        return e.indices.sorted { e[$0] > e[$1] }.prefix(max(0, k)).map {
            RankedClass(label: $0 < labels.count ? labels[$0] : String($0), index: $0, probability: e[$0] / sum)
        }
    }
}
