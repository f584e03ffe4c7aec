/// Schemas of the ops that appear only in training graphs: gradients, losses, train-mode norms.
extension OpRegistry {
    static let trainingSchemas: [OpSchema] = []
}
