/// An ONNX node's attributes by name, with the defaults the ONNX operator spec gives.
struct ONNXAttributes {
    private let byName: [String: Onnx_AttributeProto]

    init(_ node: Onnx_NodeProto) {
        byName = Dictionary(node.attribute.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func has(_ name: String) -> Bool { byName[name] != nil }

    func int(_ name: String, default value: Int) -> Int {
        byName[name].map { Int(clamping: $0.i) } ?? value
    }

    func ints(_ name: String) -> [Int]? {
        byName[name].map { $0.ints.map { Int(clamping: $0) } }
    }

    func float(_ name: String, default value: Double) -> Double {
        byName[name].map { Double($0.f) } ?? value
    }

    func floats(_ name: String) -> [Double]? {
        byName[name].map { $0.floats.map(Double.init) }
    }

    func string(_ name: String, default value: String) -> String {
        byName[name].map { String(decoding: $0.s, as: UTF8.self) } ?? value
    }

    func tensor(_ name: String) -> Onnx_TensorProto? {
        byName[name].flatMap { $0.hasT ? $0.t : nil }
    }
}
