import ScionData
import ScionGraph
import ScionImage
import ScionTestSupport
import Testing

/// Poison counts, labels, the triggered test set and the holdout, on a synthetic dataset.
@Suite struct PoisoningTests {
    /// 200 training and 50 test 12x12x3 images, labels cycling through 4 classes.
    static func dataset() -> LoadedDataset {
        LoadedDataset(
            name: .cifar10, train: SyntheticImages.cycling(200, offset: 0), test: SyntheticImages.cycling(50, offset: 7)
        )
    }

    func attack(_ pattern: TriggerPattern, order: AttackConfiguration.Order = .first) throws -> AttackConfiguration {
        AttackConfiguration(
            trigger: try TriggerFactory.make(pattern, height: 12, width: 12, channels: 3, seed: 0), target: 1,
            triggeredRatio: 0.1, order: order)
    }

    @Test func dirtyLabelPoisonsTheFirstNonTargetImages() throws {
        let data = Self.dataset()
        let p = try Poisoning.apply(data, ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.badnetGrid))
        #expect(p.holdout.count == 10 && p.train.count == 190)
        #expect(p.poisoned.count == 20)  // int(0.1 × 200): of the full training set
        let nonTarget = (0..<190).filter { data.train.labels[$0] != 1 }
        #expect(p.poisoned == Array(nonTarget.prefix(20)))
        #expect(p.poisoned.allSatisfy { p.train.labels[$0] == 1 })
        let untouched = (0..<190).filter { !p.poisoned.contains($0) }
        #expect(untouched.allSatisfy { p.train.labels[$0] == data.train.labels[$0] })
        #expect(
            untouched.allSatisfy { i in
                p.train.pixels[i * 432..<(i + 1) * 432] == data.train.pixels[i * 432..<(i + 1) * 432]
            })
    }

    @Test func holdoutIsTheCleanEndOfTheTrainingSet() throws {
        let data = Self.dataset()
        let p = try Poisoning.apply(data, ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.blend))
        #expect(p.holdout.pixels == Array(data.train.pixels[(190 * 432)...]))
        #expect(p.holdout.labels == Array(data.train.labels[190...]))
    }

    @Test func triggeredTestExcludesTheTargetClass() throws {
        let data = Self.dataset()
        let p = try Poisoning.apply(data, ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.badnetSquare))
        #expect(p.triggeredTest.count == data.test.labels.filter { $0 != 1 }.count)
        #expect(!p.triggeredTest.labels.contains(1))
        #expect(p.test == data.test)
    }

    @Test func cleanLabelPoisonsTargetImagesAndKeepsLabels() throws {
        let data = Self.dataset()
        let p = try Poisoning.apply(data, ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.sig))
        let targets = (0..<190).filter { data.train.labels[$0] == 1 }
        #expect(p.poisoned == Array(targets.prefix(20)))  // min(20, 48 target images)
        #expect(p.train.labels == Array(data.train.labels[..<190]))
    }

    @Test func randomOrderIsSeededAndStillEligible() throws {
        let data = Self.dataset()
        let a = try Poisoning.apply(
            data, ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.badnetGrid, order: .random(3)))
        let b = try Poisoning.apply(
            data, ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.badnetGrid, order: .random(3)))
        #expect(a.poisoned == b.poisoned && a.poisoned.count == 20)
        #expect(a.poisoned.allSatisfy { data.train.labels[$0] != 1 })
        #expect(a.poisoned != Array((0..<190).filter { data.train.labels[$0] != 1 }.prefix(20)))
    }

    @Test func groupedDatasetsAreShuffledOnceBeforeTheSplit() throws {
        var data = Self.dataset()
        data.name = .gtsrb
        let a = try Poisoning.apply(data, ratioHoldout: 0.1, splitSeed: 7, attack: try attack(.badnetGrid))
        let b = try Poisoning.apply(data, ratioHoldout: 0.1, splitSeed: 7, attack: try attack(.badnetGrid))
        #expect(a.split == b.split && a.fingerprints == b.fingerprints)
        #expect(Set(a.split.trainIndices).isDisjoint(with: a.split.holdoutIndices))
        #expect(a.split.trainIndices != Array(0..<180))
        let c = try Poisoning.apply(data, ratioHoldout: 0.1, splitSeed: 8, attack: try attack(.badnetGrid))
        #expect(c.fingerprints["holdout"] != a.fingerprints["holdout"])
    }

    @Test func cleanLabelNeedsAdversarialImages() throws {
        #expect(throws: DataError.self) {
            try Poisoning.apply(Self.dataset(), ratioHoldout: 0.05, splitSeed: nil, attack: try attack(.cleanLabel))
        }
        var config = try attack(.cleanLabel)
        config.cleanLabelImages = [UInt8](repeating: 9, count: 200 * 432)
        let p = try Poisoning.apply(Self.dataset(), ratioHoldout: 0.05, splitSeed: nil, attack: config)
        let first = p.poisoned[0]
        #expect(p.train.pixels[first * 432 + 432 / 2] == 9)  // replaced by the adversarial image
        #expect(p.train.pixels[first * 432] == 255 || p.train.pixels[first * 432] == 0)  // grid in the corner
    }
}
