import Foundation
import ScionGraph
import ScionRuntime
import ScionTraining

/// Clean accuracy and attack success rate, as the reference measures them (but as exact means
/// over all images, not means of batch means): ACC over the clean test set; ASR the share of
/// triggered non-target test images predicted as the target.
public struct Metrics: Codable, Sendable, Equatable {
    public var acc: Double
    public var asr: Double
    /// The share of *clean* non-target test images predicted as the target: what the ASR would
    /// be if the trigger did nothing, so a model's ASR cannot sensibly be read below it.
    /// Nil when there is no attack (or in reports written before it was measured).
    public var clean_to_target: Double?
    /// Per class: clean accuracy, and ASR over that class's triggered images.
    public var per_class: [String: ClassMetrics]

    public struct ClassMetrics: Codable, Sendable, Equatable {
        public var acc: Double
        public var asr: Double?
        public var images: Int
    }
}

public enum Evaluation {
    /// Predicted labels of `data` through `model`'s first output (its logits).
    public static func predictions(_ model: Model, _ data: ImageSet, threads: Int, batchSize: Int = 256) throws -> [Int] {
        var m = model
        m.graph.outputs = [model.graph.outputs[0]]
        let batch = max(1, min(batchSize, data.count))
        let executor = try Executor(model: m, options: .init(maxBatch: batch, threads: threads))
        guard let classes = m.graph.values[m.graph.outputs[0]]?.sampleShape.first else { return [] }
        let perImage = data.channels * data.height * data.width
        var input = [Float](repeating: 0, count: batch * perImage)
        var logits = [Float](repeating: 0, count: batch * classes)
        var out: [Int] = []
        out.reserveCapacity(data.count)
        for start in stride(from: 0, to: data.count, by: batch) {
            let n = min(batch, data.count - start)
            input.withUnsafeMutableBufferPointer { p in for j in 0..<n { data.appendFloats(start + j, to: p.baseAddress! + j * perImage) } }
            try input.withUnsafeBufferPointer { try executor.run(batch: n, input: $0.baseAddress!) }
            logits.withUnsafeMutableBufferPointer { executor.copyOutput(m.graph.outputs[0], to: $0.baseAddress!, batch: n) }
            for j in 0..<n {
                var best = 0
                for k in 1..<classes where logits[j * classes + k] > logits[j * classes + best] { best = k }
                out.append(best)
            }
        }
        return out
    }

    /// ACC on `clean` and ASR on `triggered` (nil: no attack to measure).
    public static func measure(_ model: Model, clean: ImageSet, triggered: ImageSet?, target: Int, threads: Int) throws -> Metrics {
        let predicted = try predictions(model, clean, threads: threads)
        var perClass: [String: Metrics.ClassMetrics] = [:]
        var correct = 0
        for k in 0..<clean.classes {
            let members = clean.labels.indices.filter { clean.labels[$0] == Int32(k) }
            let right = members.filter { predicted[$0] == k }.count
            correct += right
            perClass[String(k)] = .init(acc: members.isEmpty ? 0 : Double(right) / Double(members.count), asr: nil, images: members.count)
        }
        var asr = 0.0
        var cleanToTarget: Double?
        if let triggered, triggered.count > 0 {
            let others = clean.labels.indices.filter { clean.labels[$0] != Int32(target) }
            cleanToTarget = Double(others.filter { predicted[$0] == target }.count) / Double(max(others.count, 1))
            let attacked = try predictions(model, triggered, threads: threads)
            asr = Double(attacked.filter { $0 == target }.count) / Double(triggered.count)
            for k in 0..<clean.classes where k != target {
                let members = triggered.labels.indices.filter { triggered.labels[$0] == Int32(k) }
                guard !members.isEmpty else { continue }
                perClass[String(k)]?.asr = Double(members.filter { attacked[$0] == target }.count) / Double(members.count)
            }
        }
        return Metrics(acc: Double(correct) / Double(max(clean.count, 1)), asr: asr, clean_to_target: cleanToTarget, per_class: perClass)
    }
}
