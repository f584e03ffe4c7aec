/// The verifier: SSA, topological order, defined inputs, valid attributes, consistent parameter
/// shapes and shape inference. Modeled on ONNX's checker; every error names its object.
extension Graph {
    /// Checks the whole graph and returns the inferred type of every value.
    @discardableResult
    public func verify() throws -> [String: TensorType] {
        var types = try declaredLeafTypes()
        try checkUniqueNodeNames()
        let laterDefined = Set(nodes.flatMap(\.outputs))
        for node in nodes {
            let inferred = try inferNode(node, types: types, laterDefined: laterDefined)
            for (name, type) in zip(node.outputs, inferred) {
                guard types[name] == nil else { throw GraphError.duplicateName(name, kind: "value") }
                if let declared = values[name], declared != type {
                    throw GraphError.typeMismatch(
                        value: name, declared: declared.description, inferred: type.description)
                }
                types[name] = type
            }
        }
        try checkOutputsAndCuts(types)
        return types
    }

    /// Recomputes and stores the type of every node output.
    public mutating func inferTypes() throws {
        var copy = self
        copy.values = values.filter { name, _ in
            inputs.contains(name) || parameters.contains { $0.name == name }
        }
        values = try copy.verify()
    }

    /// Appends `node` after checking it against the values defined so far (op, arity,
    /// attributes, shapes) and records its outputs' types: how an importer builds a graph one
    /// node at a time. Inputs and parameters must already have their types in `values`.
    @discardableResult
    public mutating func append(_ node: Node) throws -> [TensorType] {
        guard !nodes.contains(where: { $0.name == node.name }) else {
            throw GraphError.duplicateName(node.name, kind: "node")
        }
        let inferred = try inferNode(node, types: values, laterDefined: [])
        for name in node.outputs where values[name] != nil { throw GraphError.duplicateName(name, kind: "value") }
        for (name, type) in zip(node.outputs, inferred) { values[name] = type }
        nodes.append(node)
        return inferred
    }

    /// Types of graph inputs and parameters, after checking their names and shapes.
    private func declaredLeafTypes() throws -> [String: TensorType] {
        var types: [String: TensorType] = [:]
        for name in inputs {
            guard types[name] == nil else { throw GraphError.duplicateName(name, kind: "value") }
            guard let type = values[name] else { throw GraphError.input(name: name, problem: "has no declared type") }
            guard type.shape.dropFirst().allSatisfy({ $0 != .batch }) else {
                throw GraphError.input(name: name, problem: "only the first dimension may be the batch")
            }
            guard type.shape.allSatisfy({ ($0.fixedValue ?? 1) >= 1 }) else {
                throw GraphError.input(name: name, problem: "extents must be positive, got \(type)")
            }
            types[name] = type
        }
        for p in parameters {
            guard types[p.name] == nil else { throw GraphError.duplicateName(p.name, kind: "value") }
            guard p.shape.allSatisfy({ $0 >= 1 }), ShapeRules.elementCount(p.shape) != nil else {
                throw GraphError.parameter(name: p.name, problem: "invalid shape \(p.shape)")
            }
            if let declared = values[p.name], declared != p.type {
                throw GraphError.parameter(
                    name: p.name, problem: "value type \(declared) differs from parameter type \(p.type)")
            }
            types[p.name] = p.type
        }
        return types
    }

    private func checkUniqueNodeNames() throws {
        var seen = Set<String>()
        for node in nodes where !seen.insert(node.name).inserted {
            throw GraphError.duplicateName(node.name, kind: "node")
        }
    }

    /// Validates one node against its schema and infers its output types.
    private func inferNode(_ node: Node, types: [String: TensorType], laterDefined: Set<String>) throws
        -> [TensorType]
    {
        guard let schema = OpRegistry.schema(for: node.op) else {
            throw GraphError.unknownOp(node: node.name, op: node.op.rawValue)
        }
        let maxInputs = schema.variadic ? Int.max : schema.inputNames.count
        guard node.inputs.count >= schema.minInputs, node.inputs.count <= maxInputs else {
            throw GraphError.arity(
                node: node.name, op: node.op.rawValue, expected: schema.arityDescription, got: node.inputs.count)
        }
        guard node.outputs.count == schema.outputCount else {
            throw GraphError.shape(
                node: node.name, problem: "defines \(node.outputs.count) outputs, op has \(schema.outputCount)")
        }
        try checkAttributes(node, schema)
        let inputTypes = try node.inputs.map { name -> TensorType in
            if let t = types[name] { return t }
            if laterDefined.contains(name) { throw GraphError.notTopological(node: node.name, value: name) }
            throw GraphError.undefinedValue(node: node.name, value: name)
        }
        let out = try schema.infer(ShapeContext(node: node, inputs: inputTypes, schema: schema))
        for (name, t) in zip(node.outputs, out) where t.shape.dropFirst().contains(.batch) {
            throw GraphError.shape(node: node.name, problem: "output '\(name)' has the batch past dimension 0")
        }
        return out
    }

    private func checkAttributes(_ node: Node, _ schema: OpSchema) throws {
        for (key, value) in node.attributes {
            guard let spec = schema.attributeSpec(key) else {
                throw GraphError.attribute(node: node.name, attribute: key, problem: "not an attribute of \(node.op)")
            }
            guard spec.kind.matches(value) else {
                throw GraphError.attribute(
                    node: node.name, attribute: key,
                    problem: "expected type \(spec.kind.rawValue), got \(value.typeName)")
            }
            if let problem = spec.check?(value) {
                throw GraphError.attribute(node: node.name, attribute: key, problem: problem)
            }
        }
        for spec in schema.attributes where spec.defaultValue == nil && node.attributes[spec.name] == nil {
            throw GraphError.attribute(node: node.name, attribute: spec.name, problem: "required but missing")
        }
    }

    private func checkOutputsAndCuts(_ types: [String: TensorType]) throws {
        guard !outputs.isEmpty else { throw GraphError.output(name: "", problem: "the graph has no outputs") }
        var seen = Set<String>()
        for name in outputs {
            guard types[name] != nil else { throw GraphError.output(name: name, problem: "is not defined") }
            guard seen.insert(name).inserted else { throw GraphError.duplicateName(name, kind: "output") }
        }
        var cutNames = Set<String>()
        for cut in cutPoints {
            guard cutNames.insert(cut.name).inserted else {
                throw GraphError.duplicateName(cut.name, kind: "cut point")
            }
            guard types[cut.value] != nil else {
                throw GraphError.cutPoint(name: cut.name, problem: "value '\(cut.value)' is not defined")
            }
        }
    }
}
