import CBLAS

/// `y = act(x · Wᵀ + bias + residual)` for row-major `x [N, in]` and PyTorch's `W [out, in]`.
/// Rows are split over the thread pool when the batch is large enough.
public final class Linear: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let activation: KernelActivation
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?

    public init(
        inFeatures: Int, outFeatures: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: KernelActivation
    ) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.activation = activation
        self.weight = .allocate(capacity: inFeatures * outFeatures)
        self.weight.update(from: weight, count: inFeatures * outFeatures)
        if let bias {
            self.bias = .allocate(capacity: outFeatures)
            self.bias!.update(from: bias, count: outFeatures)
        } else {
            self.bias = nil
        }
    }

    deinit {
        weight.deallocate()
        bias?.deallocate()
    }

    /// Reloads the weights (and bias) after they changed.
    public func reload(weight newWeight: UnsafePointer<Float>, bias newBias: UnsafePointer<Float>?) {
        weight.update(from: newWeight, count: inFeatures * outFeatures)
        if let bias, let newBias { bias.update(from: newBias, count: outFeatures) }
    }

    /// How `batch` rows split over `threads`.
    public func chunking(batch: Int, threads: Int) -> Chunking {
        Chunking(rows: batch, maxRows: max(1, batch / threads), threads: batch >= 2 * threads ? threads : 1)
    }

    /// Computes chunk `chunk` of the rows.
    public func compute(
        chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?
    ) {
        let r0 = chunk * chunking.rows
        let n = min(chunking.rows, chunking.total - r0)
        guard n > 0 else { return }
        let out = y + r0 * outFeatures
        if let residual, residual != UnsafePointer(y) {
            out.update(from: residual + r0 * outFeatures, count: n * outFeatures)
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(outFeatures), Int32(inFeatures), 1,
            x + r0 * inFeatures, Int32(inFeatures), weight, Int32(inFeatures), residual == nil ? 0 : 1, out,
            Int32(outFeatures))
        Epilogue.apply(
            out, rows: n, channels: outFeatures, stride: outFeatures, shift: bias.map { UnsafePointer($0) },
            activation: activation)
    }

    /// All rows over the pool (convenience; allocates per call).
    public func run(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, batch: Int,
        pool: ThreadPool
    ) {
        let chunks = chunking(batch: batch, threads: pool.threads)
        pool.parallelFor(chunks.count) { chunk, _ in compute(chunk: chunk, of: chunks, x: x, y: y, residual: residual) }
    }
}
