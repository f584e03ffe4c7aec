import ScionGraph

/// Whole tensors as datasets, for checkpoints and dataset files.
extension HDF5Group {
    /// Writes `tensor` as a dataset of its own dtype and shape.
    @discardableResult
    public func writeTensor(_ name: String, _ tensor: Tensor) throws -> HDF5Dataset {
        try tensor.withRawBytes { try writeDataset(name, type: HDF5Type(tensor.dtype), shape: tensor.shape, bytes: $0) }
    }

    /// Reads dataset `name`, which must be stored as `dtype` with at most `maxElements` elements
    /// (a bound the caller derives from what it expects, so a hostile file cannot make it
    /// allocate without limit).
    public func readTensor(_ name: String, dtype: DType, maxElements: Int) throws -> Tensor {
        guard contains(name) else { throw HDF5Error(operation: "read '\(name)'", detail: "the dataset is missing") }
        let dataset = try openDataset(name)
        let stored = try dataset.storedType()
        guard stored.type == HDF5Type(dtype) else {
            throw HDF5Error(
                operation: "read '\(name)'", detail: "stored as \(stored.description), expected \(dtype.rawValue)")
        }
        let shape = try dataset.shape()
        guard let count = ShapeRules.elementCount(shape), count <= maxElements else {
            throw HDF5Error(
                operation: "read '\(name)'", detail: "shape \(shape) exceeds the expected \(maxElements) elements")
        }
        switch dtype {
        case .float32:
            var v = [Float](repeating: 0, count: count)
            try v.withUnsafeMutableBytes { try dataset.read(as: .float32, into: $0) }
            return Tensor(shape: shape, storage: .float32(v))
        case .int32:
            var v = [Int32](repeating: 0, count: count)
            try v.withUnsafeMutableBytes { try dataset.read(as: .int32, into: $0) }
            return Tensor(shape: shape, storage: .int32(v))
        case .uint8:
            var v = [UInt8](repeating: 0, count: count)
            try v.withUnsafeMutableBytes { try dataset.read(as: .uint8, into: $0) }
            return Tensor(shape: shape, storage: .uint8(v))
        }
    }
}
