import ScionGraph

/// What the compiler rewrites: a graph with its parameter data, plus the facts passes record
/// for the executor (values computed in place over their input).
public struct CompilationUnit: Sendable, Equatable {
    public var graph: Graph
    public var parameters: [String: Tensor]
    /// Output value → input value whose buffer it reuses (set by `InPlacePass`).
    public var aliases: [String: String] = [:]

    public init(graph: Graph, parameters: [String: Tensor]) {
        self.graph = graph
        self.parameters = parameters
    }

    public init(_ model: Model) {
        self.init(graph: model.graph, parameters: model.parameters)
    }

    /// A new parameter named after `base`, unique in the graph; returns its name.
    mutating func addParameter(_ base: String, _ tensor: Tensor, role: ParameterRole) -> String {
        var name = base
        var i = 1
        while graph.values[name] != nil {
            name = "\(base)_\(i)"
            i += 1
        }
        let info = ParameterInfo(name: name, dtype: tensor.dtype, shape: tensor.shape, role: role, trainable: false)
        graph.parameters.append(info)
        graph.values[name] = info.type
        parameters[name] = tensor
        return name
    }

    /// Parameter data as floats (empty if missing).
    func floats(_ name: String) -> [Float] { parameters[name]?.floats ?? [] }

    /// Removes parameters no node reads.
    mutating func dropUnusedParameters() {
        let used = Set(graph.nodes.flatMap(\.inputs))
        for p in graph.parameters where !used.contains(p.name) {
            parameters[p.name] = nil
            graph.values[p.name] = nil
        }
        graph.parameters.removeAll { !used.contains($0.name) }
    }
}

/// One graph-to-graph rewrite. Each pass is tested on its own: outputs before and after must
/// agree, and it must not fire where its conditions fail.
public protocol CompilerPass: Sendable {
    var name: String { get }
    /// One line saying what the pass does.
    var summary: String { get }
    /// Rewrites `unit` and returns how many rewrites it made.
    func run(_ unit: inout CompilationUnit) throws -> Int
}
