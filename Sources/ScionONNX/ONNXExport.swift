import Foundation
import ScionFormat
import ScionGraph
import SwiftProtobuf

/// Writes a Scion model as an ONNX model (opset 17, IR version 8), the graph's names kept:
/// nodes, values and initializers are named as in Scion, the batch dimension is `N`. Labels,
/// preprocessing, cut points, the lineage and the content hash go into `metadata_props` under
/// `scion.*` keys, so that `ONNXImport` gives back the same model (same content hash).
public enum ONNXExport {
    /// ONNX Runtime 1.31 and 1.32 refuse IR versions above 10; opset 17 needs IR 8.
    public static let irVersion: Int64 = 8
    public static let opsetVersion: Int64 = 17

    /// The serialized ONNX model.
    public static func serialize(_ model: Model) throws -> Data {
        try proto(model).serializedData()
    }

    /// The ONNX model as a protobuf message (to inspect or edit before serializing).
    public static func proto(_ model: Model) throws -> Onnx_ModelProto {
        try model.validateParameters()
        var onnx = Onnx_ModelProto()
        onnx.irVersion = irVersion
        onnx.opsetImport = [
            .with {
                $0.domain = ""; $0.version = opsetVersion
            }
        ]
        onnx.producerName = model.metadata.producer
        onnx.producerVersion = model.metadata.producerVersion
        onnx.docString = "\(model.metadata.modelName), exported by Scion"
        onnx.graph = try graph(model)
        onnx.metadataProps = try ONNXMetadata.entries(of: model)
        return onnx
    }

    static func graph(_ model: Model) throws -> Onnx_GraphProto {
        let g = model.graph
        var out = Onnx_GraphProto()
        out.name = g.name
        var emitted = NodeEmitter(values: g.values)
        for node in g.nodes { try emitted.emit(OpView(node)) }
        out.node = emitted.nodes
        out.initializer =
            try g.parameters.map { p in
                guard let t = model.parameters[p.name] else {
                    throw ONNXError.invalid("parameter '\(p.name)' has no data")
                }
                return try ONNXTensor.proto(t, name: p.name)
            } + emitted.constants
        out.input = try g.inputs.map { try valueInfo($0, in: g) }
        out.output = try g.outputs.map { try valueInfo($0, in: g) }
        return out
    }

    /// A value's name, element type and shape, the batch dimension as the symbol `N`.
    static func valueInfo(_ name: String, in graph: Graph) throws -> Onnx_ValueInfoProto {
        guard let type = graph.values[name] else { throw ONNXError.invalid("value '\(name)' has no type") }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = try ONNXTensor.elementType(type.dtype)
        tensor.shape.dim = type.shape.map { dim in
            .with {
                switch dim {
                case .batch: $0.dimParam = "N"
                case .fixed(let n): $0.dimValue = Int64(n)
                }
            }
        }
        return .with {
            $0.name = name
            $0.type.tensorType = tensor
        }
    }
}
