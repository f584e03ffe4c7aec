import ScionGraph
import ScionImage
import ScionTraining
import Testing

@Suite struct DataPipelineTests {
    @Test func batchesAreDeterministicAndDropTheRemainder() {
        let data = Toy.data(count: 20, seed: 3)
        let a = BatchLoader(data: data, batchSize: 8, augmentation: .cropAndFlip, seed: 5)
        let b = BatchLoader(data: data, batchSize: 8, augmentation: .cropAndFlip, seed: 5)
        #expect(a.batchesPerEpoch == 2)
        let first = Array(a.batches(epoch: 3)), second = Array(b.batches(epoch: 3))
        #expect(first.count == 2)
        #expect(first.map(\.images) == second.map(\.images))
        #expect(Array(a.batches(epoch: 4)).map(\.labels) != first.map(\.labels))
        #expect(Set(a.order(epoch: 0)) == Set(0..<20))
        let keepAll = BatchLoader(data: data, batchSize: 8, dropLast: false, seed: 5)
        #expect(Array(keepAll.batches(epoch: 0)).map(\.count) == [8, 8, 4])
    }

    @Test func labelSmoothingMakesSoftTargets() {
        let loader = BatchLoader(
            data: Toy.data(count: 4, seed: 1), batchSize: 4, shuffle: false,
            augmentation: Augmentation(labelSmoothing: 0.1), seed: 1)
        let batch = loader.batch(epoch: 0, index: 0, order: loader.order(epoch: 0))
        // Class 0 for sample 0: 0.9 + 0.05, the other class 0.05.
        #expect(abs(batch.targets[0] - 0.95) < 1e-6 && abs(batch.targets[1] - 0.05) < 1e-6)
        #expect(abs(batch.targets.reduce(0, +) - 4) < 1e-5)
    }

    @Test func unlearnedSamplesGetANegativeTargetAtTheirLabel() {
        let data = Toy.data(count: 4, seed: 1)
        let loader = BatchLoader(
            data: data, batchSize: 4, shuffle: false, augmentation: Augmentation(labelSmoothing: 0.1), seed: 1)
        loader.unlearn = [2]
        let batch = loader.batch(epoch: 0, index: 0, order: loader.order(epoch: 0))
        let k = data.classes
        var expected = [Float](repeating: 0, count: k)
        expected[Int(data.labels[2])] = -1
        #expect(Array(batch.targets[(2 * k)..<(3 * k)]) == expected)
        #expect(abs(batch.targets[0..<k].reduce(0, +) - 1) < 1e-6)
    }

    @Test func cropPadsWithZerosAndFlipMirrors() {
        var pixels = [UInt8](repeating: 0, count: 16)
        pixels[0] = 255  // top-left of a 4x4 gray image
        let data = ImageSet(pixels: pixels, labels: [0], height: 4, width: 4, channels: 1, classes: 1)
        var sawFlip = false, sawShift = false
        for epoch in 0..<40 {
            let loader = BatchLoader(
                data: data, batchSize: 1, shuffle: false, augmentation: .init(cropPadding: 1, horizontalFlip: true),
                seed: UInt64(epoch))
            let image = loader.batch(epoch: epoch, index: 0, order: [0]).images
            #expect(image.filter { $0 > 0 }.count <= 1)
            #expect(image.allSatisfy { $0 == 0 || $0 == 1 })
            if image[3] == 1 { sawFlip = true }
            if image[0] == 0 && image[3] == 0 { sawShift = true }
        }
        #expect(sawFlip && sawShift)
    }

    @Test func cutMixPastesABoxAndMixesTargetsByArea() {
        // Two constant images, 0 and 1; after CutMix each pixel comes from one of them and the
        // targets' mix equals the pasted area.
        var pixels = [UInt8](repeating: 0, count: 2 * 64)
        for i in 64..<128 { pixels[i] = 255 }
        let data = ImageSet(pixels: pixels, labels: [0, 1], height: 8, width: 8, channels: 1, classes: 2)
        for seed in 0..<20 {
            let loader = BatchLoader(
                data: data, batchSize: 2, shuffle: false, augmentation: Augmentation(cutMix: true), seed: UInt64(seed))
            let batch = loader.batch(epoch: 0, index: 0, order: [0, 1])
            for n in 0..<2 {
                let image = Array(batch.images[n * 64..<(n + 1) * 64])
                let own: Float = n == 0 ? 0 : 1
                let kept = Float(image.filter { $0 == own }.count) / 64
                #expect(abs(batch.targets[n * 2 + n] - kept) < 1e-6 || kept == 1, "seed \(seed) image \(n)")
                #expect(abs(batch.targets[n * 2] + batch.targets[n * 2 + 1] - 1) < 1e-6)
            }
        }
    }
}
