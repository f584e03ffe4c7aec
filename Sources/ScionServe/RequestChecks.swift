import Foundation
import ScionGraph

/// The checks every infer request passes, whatever its protocol: REST JSON
/// (`InferenceCodec`) and gRPC (`GRPCInferRequest`) call these, so both refuse the same
/// requests with the same messages.
enum RequestChecks {
    /// Largest batch one request may carry.
    static let maxRequestBatch = 4096

    /// The request's tensors: exactly the model's one input, FP32 or UINT8. Returns whether the
    /// values are UINT8 pixels (to be preprocessed).
    static func input(count: Int, name: String?, datatype: String, model: ServedModel) throws -> Bool {
        guard count == 1 else {
            throw ServeError.badRequest("the model takes one input ('\(model.inputName)'), the request has \(count)")
        }
        guard let name, name == model.inputName else {
            throw ServeError.badRequest("unknown input '\(name ?? "")'; the model's input is '\(model.inputName)'")
        }
        guard datatype == "FP32" || datatype == "UINT8" else {
            throw ServeError.badRequest("datatype '\(datatype)' is not supported; use FP32 or UINT8")
        }
        return datatype == "UINT8"
    }

    /// `[N, C, H, W]` matching the model, with N within the request limit (nil: the request has
    /// no shape, or not an array of numbers).
    static func shape(_ numbers: [Double]?, model: ServedModel) throws -> [Int] {
        guard let numbers, numbers.count == 4, numbers.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
            throw ServeError.badRequest("'shape' must be [N, C, H, W] with positive integer extents")
        }
        guard numbers[0] <= Double(maxRequestBatch) else {
            throw ServeError.tooLarge("a request may carry at most \(maxRequestBatch) samples, got \(numbers[0])")
        }
        guard numbers.dropFirst().elementsEqual(model.inputShape.map(Double.init)) else {
            let got = numbers.map { $0 < 1e15 ? String(Int($0)) : String($0) }.joined(separator: ", ")
            let expected = model.inputShape.map(String.init).joined(separator: ", ")
            throw ServeError.badRequest("shape [\(got)] does not match the model's input [N, \(expected)]")
        }
        return numbers.map { Int($0) }
    }

    /// The outputs a request asks for by name (nil: all of the model's). A nil name is an
    /// output entry without one.
    static func outputs(_ wanted: [String?]?, model: ServedModel) throws -> [String] {
        let known = model.model.graph.outputs
        guard let wanted else { return known }
        return try wanted.map { name in
            guard let name, known.contains(name) else {
                throw ServeError.badRequest(
                    "unknown output '\(name ?? "")'; the model's outputs are \(known.joined(separator: ", "))")
            }
            return name
        }
    }

    /// UINT8 pixel values through the model's preprocessing, `(v / 255 - mean) / std`.
    static func normalize(_ values: inout [Float], spec: InputSpec) {
        let plane = spec.height * spec.width
        for i in values.indices {
            let c = (i / plane) % spec.channels
            values[i] = (values[i] / 255 - spec.mean[c]) / spec.std[c]
        }
    }
}
