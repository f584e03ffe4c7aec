import Foundation
import ScionGraph
import ScionImage
import ScionKernels
import ScionRuntime
import ScionTraining

/// The metrics of backdoor research, as exact means over all images (the reference takes means
/// of batch means): ACC over the clean test set; ASR, RA over the triggered non-target test set.
public struct Metrics: Codable, Sendable, Equatable {
    public var acc: Double
    /// Triggered non-target test images predicted as the target.
    public var asr: Double
    /// Robust accuracy: triggered non-target test images predicted as their true label.
    /// Nil when there is no attack (or in reports written before it was measured).
    public var ra: Double?
    /// The share of *clean* non-target test images predicted as the target: what the ASR would
    /// be if the trigger did nothing, so a model's ASR cannot sensibly be read below it.
    /// Nil when there is no attack (or in reports written before it was measured).
    public var clean_to_target: Double?
    /// Defense effectiveness rating against an undefended model (`der(before:after:)`), when one
    /// is known (`scion eval` reads it from the run folder's report.json).
    public var der: Double?
    /// Per class: clean accuracy, and ASR over that class's triggered images.
    public var per_class: [String: ClassMetrics]

    public struct ClassMetrics: Codable, Sendable, Equatable {
        public var acc: Double
        public var asr: Double?
        public var images: Int
    }

    /// Defense effectiveness rating (FT-SAM, ICCV 2023; BackdoorBench), in [0, 1], 0.5 = no
    /// change: `(max(0, ASR_before - ASR_after) - max(0, ACC_before - ACC_after) + 1) / 2`.
    public static func der(before: (acc: Double, asr: Double), after: (acc: Double, asr: Double)) -> Double {
        (max(0, before.asr - after.asr) - max(0, before.acc - after.acc) + 1) / 2
    }
}

/// A model's logits over a set of images, image after image.
public struct Logits: Sendable {
    public let classes: Int
    public var values: [Float]

    public var count: Int { classes == 0 ? 0 : values.count / classes }

    /// The highest-scoring class of image `i`, other than `excluded` if given.
    public func predicted(_ i: Int, excluding excluded: Int? = nil) -> Int {
        var best = excluded == 0 ? 1 : 0
        for k in 0..<classes where k != excluded && values[i * classes + k] > values[i * classes + best] { best = k }
        return best
    }

    /// log softmax of image `i` at class `k`, computed stably.
    public func logProbability(_ i: Int, _ k: Int) -> Double {
        let row = values[(i * classes)..<((i + 1) * classes)]
        let top = Double(row.max() ?? 0)
        let sum = row.reduce(0.0) { $0 + exp(Double($1) - top) }
        return Double(row[i * classes + k]) - top - log(sum)
    }
}

public enum Evaluation {
    /// The logits of every image of `sets` through `model`'s first output, one executor for all.
    public static func logits(
        _ model: Model, _ sets: [ImageSet], threads: Int, batchSize: Int = 256, precision: Precision
    ) throws -> [Logits] {
        var m = model
        m.graph.outputs = [model.graph.outputs[0]]
        let largest = sets.map(\.count).max() ?? 0
        guard largest > 0, let classes = m.graph.values[m.graph.outputs[0]]?.sampleShape.first else {
            return sets.map { _ in Logits(classes: 0, values: []) }
        }
        let batch = max(1, min(batchSize, largest))
        let executor = try Executor(
            model: m, options: .init(maxBatch: batch, threads: threads, precision: precision))
        return try sets.map { data in
            let perImage = data.channels * data.height * data.width
            var input = [Float](repeating: 0, count: batch * perImage)
            var out = [Float](repeating: 0, count: data.count * classes)
            for start in stride(from: 0, to: data.count, by: batch) {
                let n = min(batch, data.count - start)
                input.withUnsafeMutableBufferPointer { p in
                    for j in 0..<n { data.appendFloats(start + j, to: p.baseAddress! + j * perImage) }
                }
                try input.withUnsafeBufferPointer { try executor.run(batch: n, input: $0.baseAddress!) }
                out.withUnsafeMutableBufferPointer {
                    executor.copyOutput(m.graph.outputs[0], to: $0.baseAddress! + start * classes, batch: n)
                }
            }
            return Logits(classes: classes, values: out)
        }
    }

    /// ACC on `clean`; ASR and RA on `triggered` (nil: no attack to measure).
    public static func measure(
        _ model: Model, clean: ImageSet, triggered: ImageSet?, target: Int, threads: Int, precision: Precision
    ) throws -> Metrics {
        let attacked = triggered.flatMap { $0.count > 0 ? $0 : nil }
        let all = try logits(
            model, [clean] + (attacked.map { [$0] } ?? []), threads: threads, precision: precision)
        let predicted = (0..<all[0].count).map { all[0].predicted($0) }
        var perClass: [String: Metrics.ClassMetrics] = [:]
        var correct = 0
        for k in 0..<clean.classes {
            let members = clean.labels.indices.filter { clean.labels[$0] == Int32(k) }
            let right = members.filter { predicted[$0] == k }.count
            correct += right
            perClass[String(k)] = .init(
                acc: members.isEmpty ? 0 : Double(right) / Double(members.count), asr: nil, images: members.count)
        }
        var metrics = Metrics(acc: Double(correct) / Double(max(clean.count, 1)), asr: 0, per_class: perClass)
        guard let attacked else { return metrics }
        let others = clean.labels.indices.filter { clean.labels[$0] != Int32(target) }
        metrics.clean_to_target = Double(others.filter { predicted[$0] == target }.count) / Double(max(others.count, 1))
        let onTriggered = (0..<all[1].count).map { all[1].predicted($0) }
        metrics.asr = Double(onTriggered.filter { $0 == target }.count) / Double(attacked.count)
        metrics.ra =
            Double(attacked.labels.indices.filter { onTriggered[$0] == Int(attacked.labels[$0]) }.count)
            / Double(attacked.count)
        for k in 0..<clean.classes where k != target {
            let members = attacked.labels.indices.filter { attacked.labels[$0] == Int32(k) }
            guard !members.isEmpty else { continue }
            metrics.per_class[String(k)]?.asr =
                Double(members.filter { onTriggered[$0] == target }.count) / Double(members.count)
        }
        return metrics
    }
}
