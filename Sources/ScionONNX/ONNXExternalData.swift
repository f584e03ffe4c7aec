import Foundation

/// Tensors stored outside the .onnx file (`data_location: EXTERNAL`, what torch's new exporter
/// writes by default): `location` (a file next to the model), `offset` and `length` in bytes.
/// They are read into `raw_data` before import. Locations must stay inside the model's folder.
enum ONNXExternalData {
    static func resolve(_ tensors: inout [Onnx_TensorProto], folder: String?) throws {
        var files: [String: Data] = [:]
        for i in tensors.indices where tensors[i].dataLocation == .external {
            let t = tensors[i]
            let entries = Dictionary(t.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let location = entries["location"], !location.isEmpty else {
                throw ONNXError.invalid("tensor '\(t.name)' is stored externally but names no location")
            }
            guard let folder else {
                throw ONNXError.invalid(
                    "tensor '\(t.name)' is stored in '\(location)', and the model's folder is unknown")
            }
            guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
                throw ONNXError.invalid(
                    "tensor '\(t.name)': external data location '\(location)' leaves the model's folder")
            }
            if files[location] == nil {
                guard let data = FileManager.default.contents(atPath: folder + "/" + location) else {
                    throw ONNXError.invalid("tensor '\(t.name)': cannot read its external data file '\(location)'")
                }
                files[location] = data
            }
            let data = files[location] ?? Data()
            let offset = Int(entries["offset"] ?? "0") ?? -1
            let length = entries["length"].flatMap { Int($0) } ?? (data.count - max(offset, 0))
            guard offset >= 0, length >= 0, offset <= data.count, length <= data.count - offset else {
                throw ONNXError.invalid(
                    "tensor '\(t.name)': bytes \(offset)..<\(offset + length) lie outside '\(location)' (\(data.count) bytes)"
                )
            }
            tensors[i].rawData = data.subdata(in: (data.startIndex + offset)..<(data.startIndex + offset + length))
            tensors[i].dataLocation = .default
            tensors[i].externalData = []
        }
    }
}
