import Foundation
import ScionGraph

/// A ModelInfer request checked against its model: the input values (preprocessed when UINT8),
/// the batch, and the outputs asked for, passed through `RequestChecks` like REST's.
struct GRPCInferRequest {
    var input: [Float]
    var count: Int
    var outputs: [String]
    /// The request sent raw bytes: the response answers in kind.
    var raw: Bool

    init(_ request: Inference_ModelInferRequest, model: ServedModel) throws {
        let tensor = request.inputs.first ?? Inference_ModelInferRequest.InferInputTensor()
        let uint8 = try RequestChecks.input(
            count: request.inputs.count, name: tensor.name, datatype: tensor.datatype, model: model)
        let shape = try RequestChecks.shape(tensor.shape.map(Double.init), model: model)
        let expected = shape.reduce(1, *)
        raw = !request.rawInputContents.isEmpty
        if raw {
            guard request.rawInputContents.count == 1 else {
                throw ServeError.badRequest(
                    "raw_input_contents has \(request.rawInputContents.count) tensors for 1 input")
            }
            input = try BinaryTensorExtension.values(request.rawInputContents[0], uint8: uint8, count: expected)
        } else {
            input = try Self.typed(tensor.contents, uint8: uint8)
            guard input.count == expected else {
                throw ServeError.badRequest("the contents have \(input.count) values, the shape needs \(expected)")
            }
        }
        if uint8 { RequestChecks.normalize(&input, spec: model.model.metadata.input) }
        count = shape[0]
        outputs = try RequestChecks.outputs(request.outputs.isEmpty ? nil : request.outputs.map(\.name), model: model)
    }

    /// FP32 from `fp32_contents`; UINT8 pixel values from `uint_contents`, each within 0...255.
    static func typed(_ contents: Inference_InferTensorContents, uint8: Bool) throws -> [Float] {
        if uint8 {
            guard contents.uintContents.allSatisfy({ $0 <= 255 }) else {
                throw ServeError.badRequest("UINT8 data must be integers in 0...255")
            }
            return contents.uintContents.map(Float.init)
        }
        guard contents.fp32Contents.allSatisfy({ $0.isFinite }) else {
            throw ServeError.badRequest("'data' holds a number outside the FP32 range")
        }
        return contents.fp32Contents
    }

    func response(_ values: [String: [Float]], model: ServedModel, id: String) -> Inference_ModelInferResponse {
        .with { r in
            r.modelName = model.name
            r.modelVersion = model.version
            r.id = id
            for name in outputs {
                let data = values[name] ?? []
                r.outputs.append(
                    .with {
                        $0.name = name
                        $0.datatype = "FP32"
                        $0.shape = ([count] + (model.model.graph.values[name]?.sampleShape ?? [])).map(Int64.init)
                        if !raw { $0.contents.fp32Contents = data }
                    })
                if raw { r.rawOutputContents.append(BinaryTensorExtension.bytes(data)) }
            }
        }
    }
}
