import ScionGraph

/// Turns an image into a model input as the model's metadata says: resize to the input size,
/// convert to its channel count, scale to [0, 1], normalise by mean and std.
public enum Preprocessing {
    /// The `[C, H, W]` float input for `image`.
    public static func input(from image: Image, spec: InputSpec) -> [Float] {
        let fitted = image.withChannels(spec.channels).resized(width: spec.width, height: spec.height)
        let plane = spec.width * spec.height
        var out = [Float](repeating: 0, count: spec.channels * plane)
        for c in 0..<spec.channels {
            let mean = spec.mean[c], std = spec.std[c]
            for p in 0..<plane {
                out[c * plane + p] = (Float(fitted.pixels[p * spec.channels + c]) / 255 - mean) / std
            }
        }
        return out
    }
}
