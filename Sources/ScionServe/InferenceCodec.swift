import Foundation
import ScionGraph

/// Open Inference Protocol (KServe v2) JSON: requests in, responses out. Tensors are row-major
/// with a batch dimension; `data` may be flat or nested, or raw bytes after the JSON header
/// (`BinaryTensorExtension`). FP32 data is fed as is; UINT8 data (pixel values) goes through the
/// model's preprocessing, `(v / 255 - mean) / std`.
enum InferenceCodec {
    struct Request {
        var id: String?
        var input: [Float]
        var count: Int
        var outputs: [String]
        /// Outputs to return as raw bytes (the binary extension), not JSON numbers.
        var binaryOutputs: Set<String> = []
    }

    /// Parses a request: `body` is the JSON (header), `binary` the bytes after it, if any.
    static func parse(_ body: Data, binary: Data? = nil, for model: ServedModel) throws -> Request {
        let request: JSONNode
        do { request = try JSONReader.parse(body) } catch {
            throw ServeError.badRequest("malformed JSON: \(error)")
        }
        guard case .object = request else { throw ServeError.badRequest("the body must be a JSON object") }
        guard let inputs = request["inputs"]?.elements, !inputs.isEmpty else {
            throw ServeError.badRequest("'inputs' must be a non-empty array of tensors")
        }
        let input = inputs[0]
        let uint8 = try RequestChecks.input(
            count: inputs.count, name: input["name"]?.string, datatype: input["datatype"]?.string ?? "", model: model)
        let shape = try RequestChecks.shape(input["shape"]?.numbers, model: model)
        var binary = binary
        var values = try data(of: input, count: shape.reduce(1, *), uint8: uint8, binary: &binary)
        guard (binary?.count ?? 0) == 0 else {
            throw ServeError.badRequest("\(binary?.count ?? 0) bytes of binary data are not claimed by any input")
        }
        if uint8 { RequestChecks.normalize(&values, spec: model.model.metadata.input) }
        let names = try outputs(request["outputs"], model: model)
        return Request(
            id: request["id"]?.string, input: values, count: shape[0], outputs: names,
            binaryOutputs: binaryOutputs(request, names: names))
    }

    /// The input's values: JSON `data`, or `binary_data_size` raw bytes of `binary`.
    static func data(of input: JSONNode, count: Int, uint8: Bool, binary: inout Data?) throws -> [Float] {
        if case .number(let size)? = input["parameters"]?["binary_data_size"] {
            return try BinaryTensorExtension.values(
                try BinaryTensorExtension.take(size, from: &binary), uint8: uint8, count: count)
        }
        guard let raw = input["data"] else { throw ServeError.badRequest("the input has no 'data'") }
        var values: [Float] = []
        values.reserveCapacity(count)
        try flatten(raw, into: &values, limit: count, uint8: uint8)
        guard values.count == count else {
            throw ServeError.badRequest("'data' has \(values.count) values, the shape needs \(count)")
        }
        return values
    }

    /// Outputs asked for as binary: each output's `binary_data` parameter, else the request's
    /// `binary_data_output`.
    static func binaryOutputs(_ request: JSONNode, names: [String]) -> Set<String> {
        let all = request["parameters"]?["binary_data_output"] == .bool(true)
        var perOutput: [String: Bool] = [:]
        for o in request["outputs"]?.elements ?? [] {
            if let name = o["name"]?.string, case .bool(let b)? = o["parameters"]?["binary_data"] {
                perOutput[name] = b
            }
        }
        return Set(names.filter { perOutput[$0] ?? all })
    }

    /// The outputs a request asks for (default: all of the model's).
    static func outputs(_ node: JSONNode?, model: ServedModel) throws -> [String] {
        guard let node else { return try RequestChecks.outputs(nil, model: model) }
        guard let wanted = node.elements else { throw ServeError.badRequest("'outputs' must be an array") }
        return try RequestChecks.outputs(wanted.map { $0["name"]?.string }, model: model)
    }

    /// Appends the numbers of a (possibly nested) JSON array, checking each one.
    static func flatten(_ node: JSONNode, into out: inout [Float], limit: Int, uint8: Bool) throws {
        switch node {
        case .number(let v):
            try flatten(.numbers([v]), into: &out, limit: limit, uint8: uint8)
        case .numbers(let numbers):
            guard out.count + numbers.count <= limit else {
                throw ServeError.badRequest("'data' has more values than the shape allows")
            }
            for v in numbers {
                if uint8 {
                    guard v == v.rounded(), v >= 0, v <= 255 else {
                        throw ServeError.badRequest("UINT8 data must be integers in 0...255, got \(v)")
                    }
                } else {
                    guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                        throw ServeError.badRequest("'data' holds a number outside the FP32 range")
                    }
                }
                out.append(Float(v))
            }
        case .array(let items):
            for item in items { try flatten(item, into: &out, limit: limit, uint8: uint8) }
        default:
            throw ServeError.badRequest("'data' must hold only numbers")
        }
    }

    /// The response body and, when some outputs are binary, the length of its JSON header.
    /// Written by hand: `JSONSerialization` boxes every float and is the slowest part of a request
    /// for models with large outputs.
    static func response(
        _ model: ServedModel, id: String?, outputs: [String: [Float]], names: [String], count: Int,
        binary: Set<String> = []
    ) throws -> (body: Data, headerLength: Int?) {
        var raw = Data()
        var text = "{"
        if let id { text += "\"id\":\(quoted(id))," }
        text += "\"model_name\":\(quoted(model.name)),\"model_version\":\(quoted(model.version)),\"outputs\":["
        for (i, name) in names.enumerated() {
            let shape = [count] + (model.model.graph.values[name]?.sampleShape ?? [])
            text += i == 0 ? "{" : ",{"
            text +=
                "\"name\":\(quoted(name)),\"datatype\":\"FP32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],"
            if binary.contains(name) {
                let bytes = BinaryTensorExtension.bytes(outputs[name] ?? [])
                text += "\"parameters\":{\"binary_data_size\":\(bytes.count)}}"
                raw.append(bytes)
                continue
            }
            text += "\"data\":["
            for (j, v) in (outputs[name] ?? []).enumerated() {
                if j > 0 { text += "," }
                text += v.isFinite ? v.description : "null"
            }
            text += "]}"
        }
        text += "]}"
        let json = Data(text.utf8)
        return binary.isEmpty ? (json, nil) : (json + raw, json.count)
    }

    /// `s` as a JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
