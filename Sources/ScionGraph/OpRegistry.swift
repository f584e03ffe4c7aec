/// The table of every op the IR knows, keyed by name.
public enum OpRegistry {
    static let table: [OpType: OpSchema] = {
        var table: [OpType: OpSchema] = [:]
        for schema in forwardSchemas + compilerSchemas + trainingSchemas {
            precondition(table[schema.op] == nil, "op \(schema.op) registered twice")
            table[schema.op] = schema
        }
        return table
    }()

    /// The schema of `op`, or nil when the op is unknown.
    public static func schema(for op: OpType) -> OpSchema? { table[op] }

    /// The inference ops, in a stable order.
    public static var forwardOps: [OpType] { forwardSchemas.map(\.op) }

    /// Every known op, in a stable order.
    public static var allOps: [OpType] { (forwardSchemas + compilerSchemas + trainingSchemas).map(\.op) }
}
