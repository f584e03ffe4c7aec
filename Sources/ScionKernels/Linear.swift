import CBLAS

/// `y = act(x · Wᵀ + bias + residual)` for row-major `x [N, in]` and PyTorch's `W [out, in]`.
/// Rows are split over the thread pool when the batch is large enough.
public final class Linear: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let activation: KernelActivation
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?

    public init(inFeatures: Int, outFeatures: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: KernelActivation) {
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

    public func run(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, batch: Int, pool: ThreadPool) {
        let chunking = Chunking(rows: batch, maxRows: max(1, batch / pool.threads), threads: batch >= 2 * pool.threads ? pool.threads : 1)
        pool.parallelFor(chunking.count) { chunk, _ in
            let r0 = chunk * chunking.rows
            let n = min(chunking.rows, batch - r0)
            guard n > 0 else { return }
            let out = y + r0 * self.outFeatures
            if let residual, residual != UnsafePointer(y) {
                out.update(from: residual + r0 * self.outFeatures, count: n * self.outFeatures)
            }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(self.outFeatures), Int32(self.inFeatures), 1,
                x + r0 * self.inFeatures, Int32(self.inFeatures), self.weight, Int32(self.inFeatures),
                residual == nil ? 0 : 1, out, Int32(self.outFeatures))
            Epilogue.apply(
                out, rows: n, channels: self.outFeatures, stride: self.outFeatures,
                shift: self.bias.map { UnsafePointer($0) }, activation: self.activation)
        }
    }
}
