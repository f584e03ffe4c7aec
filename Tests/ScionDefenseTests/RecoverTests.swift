import Foundation
import ScionData
import ScionDefense
import ScionFormat
import ScionGraph
import ScionImage
import ScionTestSupport
import ScionTraining
import Testing

@Suite struct RecoverTests {
    let dir = TemporaryDirectory()

    /// Five classes: class 0 holds ten images, six of them poisons scoring 5 and one clean image
    /// scoring 0.7; class 1 one hard clean image scoring 0.8; classes 2 to 4 nothing suspect.
    /// Class 0 is 6 images above the median size (4).
    static let labels = Array(repeating: 0, count: 10) + (1...4).flatMap { Array(repeating: $0, count: 4) }
    static let scores =
        Array(repeating: 5.0, count: 6) + [0.7, 0, 0, 0] + [0, 0, 0, 0.8] + Array(repeating: 0.0, count: 12)
    /// Trapped losses: the poisons fitted to 1e-6, class 0's clean images at 0.5, the other
    /// classes from 0.001 (their 5 % quantile) up.
    static let losses =
        Array(repeating: 1e-6, count: 6) + Array(repeating: 0.5, count: 4) + (0..<16).map { 0.001 + Double($0) / 10 }

    @Test func theSplitRelabelsTheSwollenClassAndDropsHardImagesElsewhere() {
        let relabels = Self.labels.map { ($0 + 1) % 5 }
        let split = SuspectSplit.split(
            scores: Self.scores, labels: Self.labels, relabels: relabels, classes: 5, rule: .init())
        // Shares above 2.0: 0.6, 0, 0, 0, 0; only class 0 clears max(0.05, 3 x median 0, half of 0.6).
        #expect(split.poisonedClasses == [0])
        // Class 0's 6 highest are relabelled; its clean 0.7 is beyond the excess, so only dropped;
        // class 1's 0.8 is below the class threshold, so kept.
        #expect(split.indices(.relabelled) == Array(0...5))
        #expect(split.indices(.dropped) == [6])
        let detection = split.detection(truth: Array(0..<6))
        #expect(detection == Detection(suspects: 7, poisoned: 6, tpr: 1, fpr: 1.0 / 20))
        #expect(split.detection(truth: []).tpr == nil)
    }

    @Test func theSplitDropsTheExcessOfAPoisonedClassThatScoresLow() {
        // Two of the six poisons fool the new head (scores 0.3 and 0.2): class 0 is still 6 images
        // above the median size, so its 6 highest are left out, and only those above 0.5 relabelled.
        var scores = Self.scores
        scores[4] = 0.3
        scores[5] = 0.2
        scores[13] = 0.4
        let split = SuspectSplit.split(
            scores: scores, labels: Self.labels, relabels: Self.labels, classes: 5, rule: .init())
        #expect(split.poisonedClasses == [0])
        #expect(split.indices(.relabelled) == [0, 1, 2, 3, 6])
        #expect(split.indices(.dropped) == [4])
        #expect(split.detection(truth: Array(0..<6)).tpr == 5.0 / 6)
    }

    @Test func aPoisonThatFoolsTheNewHeadIsLeftOutByItsTrappedLoss() {
        // Poison 5 fools the new head (score 0.1) and ranks below the clean image at 0.7, beyond
        // class 0's excess of 6; the trapped model fits it to 1e-6, below the other
        // classes' lowest loss (0.001, their 5 % quantile), while class 0's clean images sit at 0.5.
        var scores = Self.scores
        scores[5] = 0.1
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: Self.losses, labels: Self.labels, relabels: Self.labels, classes: 5,
            rule: .init())
        #expect(split.indices(.relabelled) == [0, 1, 2, 3, 4, 6])
        #expect(split.indices(.dropped) == [5])
        var off = SuspectSplit.Rule()
        off.lowLossQuantile = 0
        let without = SuspectSplit.split(
            scores: scores, trappedLosses: Self.losses, labels: Self.labels, relabels: Self.labels, classes: 5,
            rule: off)
        #expect(without.indices(.dropped).isEmpty)
    }

    @Test func theExcessRankedByTrappedLossCatchesWhatTheScoreRankingMisses() {
        // Poison 5 scores 0.1 (outside the score-ranked excess of 6, which takes the clean 0.7)
        // and its trapped loss, 0.01, is above the other classes' 5 % quantile (0.001), but
        // among class 0's 6 lowest: the excess ranked by trapped loss leaves it out.
        var scores = Self.scores
        scores[5] = 0.1
        var losses = Self.losses
        losses[5] = 0.01
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: losses, labels: Self.labels, relabels: Self.labels, classes: 5,
            rule: .init())
        #expect(split.indices(.relabelled) == [0, 1, 2, 3, 4, 6])
        #expect(split.indices(.dropped) == [5])
    }

    /// Trusted holdout losses: `perClass[k]`'s values repeated to 20 images of class k (the
    /// rule's `minimumTrusted`).
    static func trusted(_ perClass: [[Double]]) -> (losses: [Double], labels: [Int]) {
        let losses = perClass.flatMap { values in (0..<20).map { values[$0 % values.count] } }
        return (losses, perClass.indices.flatMap { Array(repeating: $0, count: 20) })
    }

    /// The trusted images of `losses`' classes: class 0's at 0.4-0.9 (unseen, no trigger),
    /// classes 1-4 spread like their training images.
    static let trustedHoldout = trusted([[0.4, 0.6, 0.9]] + (0..<4).map { k in spreadBelow(4 * k + 10) })

    /// `losses[first..<first + 4]`, each 0.0005 lower.
    static func spreadBelow(_ first: Int, in losses: [Double] = losses) -> [Double] {
        losses[first..<first + 4].map { $0 - 0.0005 }
    }

    @Test func aClassWhosePoisonsFoolBothHeadsIsJudgedByItsOwnTrustedLosses() {
        // The stem carries the trigger: both heads call the six poisons class 0, so every score is
        // 0, but the trapped model fits them to 1e-6. Class 0's share at or below its trusted
        // images' 5 % quantile (0.4) is 0.6; the other classes' (below their own trusted) 0.
        // Its excess of 6, ranked by trapped loss, is unlearned, none relabelled (the new head
        // cannot name a true class it was fooled about) and none merely left out (that kept
        // l2_inv's trigger).
        let scores = [Double](repeating: 0, count: Self.labels.count)
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: Self.losses, labels: Self.labels, relabels: Self.labels, classes: 5,
            rule: .init(), holdout: Self.trustedHoldout)
        #expect(split.poisonedClasses == [0])
        #expect(split.classOwnLossShares == [0.6, 0, 0, 0, 0])
        #expect(split.indices(.relabelled).isEmpty && split.indices(.dropped).isEmpty)
        #expect(split.indices(.unlearned) == Array(0...5))
        #expect(split.detection(truth: Array(0..<6)) == Detection(suspects: 6, poisoned: 6, tpr: 1, fpr: 0))
        // Without the low-loss rule, or without trusted images to measure against, nothing is
        // judged poisoned.
        var off = SuspectSplit.Rule()
        off.lowLossQuantile = 0
        for (rule, holdout) in [(off, Self.trustedHoldout), (.init(), nil)] {
            let without = SuspectSplit.split(
                scores: scores, trappedLosses: Self.losses, labels: Self.labels, relabels: Self.labels, classes: 5,
                rule: rule, holdout: holdout)
            #expect(without.poisonedClasses.isEmpty && without.indices(.unlearned).isEmpty)
        }
    }

    @Test func anEasyCleanClassIsNotJudgedByItsTrappedLosses() {
        // Class 1 is large (10 images) and easy: the trapped model fits 6 of them below every other
        // class's images (1e-5 to 6e-5), but it fits its trusted images as well (5e-6 up; their
        // 5 % quantile 1.5e-5): a share of 0.1, no trigger, not poisoned.
        let labels: [Int] = [0, 0, 0, 0] + Array(repeating: 1, count: 10) + (2...4).flatMap { [$0, $0, $0, $0] }
        let easy: [Double] = (1...6).map { Double($0) * 1e-5 } + Array(repeating: 0.3, count: 4)
        let spread: [Double] = (0..<16).map { 0.001 + Double($0) / 10 }
        let losses: [Double] = Array(spread[0..<4]) + easy + Array(spread[4...])
        let scores = [Double](repeating: 0, count: labels.count)
        let easyTrusted = (0..<20).map { 5e-6 + 1e-5 * Double($0) }
        let others = [0, 14, 18, 22].map { Self.spreadBelow($0, in: losses) }
        let trusted = Self.trusted([others[0], easyTrusted] + others[1...])
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: losses, labels: labels, relabels: labels, classes: 5, rule: .init(),
            holdout: trusted)
        #expect(split.poisonedClasses.isEmpty && split.indices(.dropped).isEmpty)
        #expect(abs(split.classOwnLossShares[1] - 0.1) < 1e-12)
    }

    @Test func ownLossSharesNeedEnoughTrustedImages() {
        // Class 0: 4 training images, 2 at or below its 20 trusted images' 5 % quantile (rank 1:
        // 1.0). Class 1 has only 19 trusted images: no share.
        let members = [[0, 1, 2, 3], [4, 5]]
        let losses: [Double] = [0.5, 1, 3, 9, 0.1, 0.2]
        let trustedLosses = (0..<20).map { Double($0) } + Array(repeating: 5.0, count: 19)
        let trustedMembers = [Array(0..<20), Array(20..<39)]
        let shares = SuspectSplit.ownLossShares(
            losses, members, SuspectSplit.Rule(), trusted: (trustedLosses, trustedMembers))
        #expect(shares == [0.5, 0])
        var fewer = SuspectSplit.Rule()
        fewer.minimumTrusted = 19
        #expect(
            SuspectSplit.ownLossShares(losses, members, fewer, trusted: (trustedLosses, trustedMembers)) == [0.5, 1])
    }

    @Test func aClassTheTrustedImagesShowSmallByNatureHasItsPoisonsAsExcess() {
        // Class 0 holds 2 clean images and 8 poisons (score 5); classes 1-4 hold 40 each. Against
        // the median size (40) class 0 has no excess, so its poisons are only left out. It has 20
        // of 4,020 trusted images: its natural size is at most (0.005 + 2 x 0.0022) x 170 = 1.2,
        // so its excess is 8, and the poisons are relabelled, which unlearns the trigger.
        let labels: [Int] = Array(repeating: 0, count: 10) + (1...4).flatMap { Array(repeating: $0, count: 40) }
        let scores: [Double] = Array(repeating: 5, count: 8) + Array(repeating: 0, count: 162)
        let relabels = labels.map { ($0 + 1) % 5 }
        let trustedLabels = Array(repeating: 0, count: 20) + (1...4).flatMap { Array(repeating: $0, count: 1000) }
        let holdout = (losses: trustedLabels.map { _ in 1.0 }, labels: trustedLabels)
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: nil, labels: labels, relabels: relabels, classes: 5, rule: .init(),
            holdout: holdout)
        #expect(split.poisonedClasses == [0] && split.indices(.relabelled) == Array(0..<8))
        // With fewer trusted images than `minimumTrusted` the median stands.
        var strict = SuspectSplit.Rule()
        strict.minimumTrusted = 21
        let median = SuspectSplit.split(
            scores: scores, trappedLosses: nil, labels: labels, relabels: relabels, classes: 5, rule: strict,
            holdout: holdout)
        #expect(median.indices(.relabelled).isEmpty && median.indices(.dropped) == Array(0..<8))
    }

    @Test func aClassTheTrustedImagesShowLargeByNatureKeepsItsCleanImages() {
        // Class 0 holds 8 clean images (trapped losses above the other classes' lowest, 0.1) and
        // 2 poisons (score 5, trapped loss 1e-6); classes 1-4 hold 4 each. Against the median
        // size (4) its excess is 6: its 6 highest scores and 6 lowest trapped losses include 4
        // clean images, left out. 60 of 100 trusted images are class 0: its natural size is at
        // least (0.6 - 2 x 0.049) x 26 = 13, so no excess, and only the poisons (above the 0.5
        // threshold) are left out. Its trusted images are fitted like its clean training images
        // (0.1): its own-loss share, 0.2, estimates the 2 poisons.
        let labels: [Int] = Array(repeating: 0, count: 10) + (1...4).flatMap { [$0, $0, $0, $0] }
        let scores: [Double] = [5, 5] + (0..<8).map { 0.3 - 0.03 * Double($0) } + Array(repeating: 0, count: 16)
        let cleanLosses: [Double] = (1...8).map { 0.1 + 0.01 * Double($0) }
        let otherLosses: [Double] = (0..<16).map { 0.1 + Double($0) }
        let losses: [Double] = [1e-6, 1e-6] + cleanLosses + otherLosses
        let others: [Int] = (1...4).flatMap { Array(repeating: $0, count: 10) }
        let trusted: [Int] = Array(repeating: 0, count: 60) + others
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: losses, labels: labels, relabels: labels, classes: 5, rule: .init(),
            holdout: (trusted.map { $0 == 0 ? 0.1 : 0.5 }, trusted))
        #expect(split.poisonedClasses == [0])
        #expect(split.indices(.dropped) == [0, 1] && split.indices(.relabelled).isEmpty)
        let median = SuspectSplit.split(
            scores: scores, trappedLosses: losses, labels: labels, relabels: labels, classes: 5, rule: .init())
        #expect(median.indices(.relabelled) == [0, 1] && median.indices(.dropped) == [2, 3, 4, 5])
    }

    @Test func anEasyPoisonedClassKeepsTheCleanImagesItsTrustedImagesMatch() {
        // Class 0 holds 2 poisons (score 5, trapped loss 1e-6) and 4 easy clean images (losses
        // 0.01-0.04, below the other classes' lowest, 0.1, their 5 % quantile). Its 10 trusted
        // images are fitted as well (0.005-0.095): the bar is their 5 % quantile, 0.005, so the
        // clean images stay; against the other classes' bar they are left out.
        let labels: [Int] = [0, 0, 0, 0, 0, 0] + (1...4).flatMap { [$0, $0, $0, $0] }
        let scores: [Double] = [5, 5] + Array(repeating: 0, count: 20)
        let otherLosses: [Double] = (0..<16).map { 0.1 + Double($0) }
        let losses: [Double] = [1e-6, 1e-6, 0.01, 0.02, 0.03, 0.04] + otherLosses
        let trustedLabels: [Int] = (0...4).flatMap { Array(repeating: $0, count: 10) }
        let trustedLosses: [Double] = (0..<10).map { 0.005 + 0.01 * Double($0) } + Array(repeating: 1, count: 40)
        let split = SuspectSplit.split(
            scores: scores, trappedLosses: losses, labels: labels, relabels: labels, classes: 5, rule: .init(),
            holdout: (trustedLosses, trustedLabels))
        #expect(split.poisonedClasses == [0])
        #expect(split.indices(.relabelled) == [0, 1] && split.indices(.dropped).isEmpty)
        let without = SuspectSplit.split(
            scores: scores, trappedLosses: losses, labels: labels, relabels: labels, classes: 5, rule: .init())
        #expect(without.indices(.relabelled) == [0, 1] && without.indices(.dropped) == [2, 3, 4, 5])
    }

    @Test func classesWithTooFewTrustedImagesAreNamed() {
        // Class 0 has 20 trusted images, class 1 has 3, class 2 none.
        let labels: [Int32] = Array(repeating: 0, count: 20) + [1, 1, 1]
        let holdout = ImageSet(
            pixels: [UInt8](repeating: 0, count: labels.count), labels: labels, height: 1, width: 1, channels: 1,
            classes: 3)
        let thin = SuspectSplit.thinlyTrusted(holdout, SuspectSplit.Rule())
        #expect(thin.map(\.label) == [1, 2] && thin.map(\.count) == [3, 0])
    }

    @Test func aClassFullOfModestScoresIsNotJudgedPoisoned() {
        // A weak new head leaves every image of class 1 at 0.8 (its share above 0.5 is 1.0, the
        // poisoned class's 0.7): classes are judged above 2.0, so class 1 is clean.
        var scores = Self.scores
        for i in 10..<14 { scores[i] = 0.8 }
        let split = SuspectSplit.split(
            scores: scores, labels: Self.labels, relabels: Self.labels, classes: 5, rule: .init())
        #expect(split.poisonedClasses == [0])
        #expect(split.indices(.relabelled) == Array(0...5))
        #expect(split.indices(.dropped) == [6])
    }

    @Test func classesJudgedEarlierOverrideTheShares() {
        let split = SuspectSplit.split(
            scores: Self.scores, labels: Self.labels, relabels: Self.labels, classes: 5, rule: .init(),
            poisonedClasses: [])
        // No class poisoned: only images above the class threshold are dropped.
        #expect(split.indices(.relabelled).isEmpty)
        #expect(split.indices(.dropped) == Array(0...5))
    }

    @Test func derFollowsItsDefinition() {
        // ASR 100 % -> 2 %, ACC 90 % -> 88 %: (0.98 - 0.02 + 1) / 2.
        #expect(abs(Metrics.der(before: (0.9, 1), after: (0.88, 0.02)) - 0.98) < 1e-12)
        // A gain in accuracy is not a bonus, a rise in ASR not a penalty below 0.5.
        #expect(abs(Metrics.der(before: (0.9, 1), after: (0.95, 0)) - 1) < 1e-12)
        #expect(abs(Metrics.der(before: (0.9, 0.1), after: (0.8, 0.5)) - 0.45) < 1e-12)
    }

    @Test func robustAccuracyCountsTriggeredImagesGivenTheirTrueLabel() throws {
        // A model that always answers class 0: of the triggered images of classes 0, 2 and 3, a
        // third are class 0's, so RA is 1/3; none is called the target 1.
        let model = try DefenseTests.constantModel(answering: 0)
        let data = try DefenseTests.poisoned()
        let metrics = try Evaluation.measure(
            model, clean: data.test, triggered: data.triggeredTest, target: 1, threads: 2, precision: .fp32)
        #expect(metrics.asr == 0 && abs((metrics.ra ?? -1) - 1.0 / 3) < 1e-12)
    }

    @Test func resultRowsHaveBackdoorBenchsColumnsAndAppend() throws {
        let json = """
            {"folder": "runs/a,b", "dataset": "cifar10", "pattern": "blend", "target": 0, "arch": "wrn-16-1", "poison_ratio": 0.1,
             "seed": 3, "final": "recovered.h5", "defense_seconds": 12.5, "generated": "now", "stages": {"T&R + recover": {
             "model": "recovered.h5", "acc": 0.9, "asr": 0.01, "clean_to_target": 0.005, "ra": 0.85, "der": 0.98, "epochs": 4,
             "detection": {"suspects": 10, "poisoned": 8, "tpr": 1, "fpr": 0.01}, "seconds": 12.5, "content_hash": "sha256:0",
             "head_replaced": true}}}
            """
        let report = try JSONDecoder().decode(RunReport.self, from: Data(json.utf8))
        #expect(
            report.resultRows() == [
                "cifar10,wrn-16-1,blend,0.1000,tr_recover,0.9000,0.0100,0.8500,0.9800,0.0050,1.0000,0.0100,4,12.5,3,\"runs/a,b\""
            ])
        let csv = dir.file("results.csv")
        try report.appendResults(to: csv)
        try report.appendResults(to: csv)
        var other = report
        other.folder = "runs/c"
        try other.appendResults(to: csv)
        // The same folder's row again replaces it; another folder's is added.
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines[0] == RunReport.resultsHeader && lines[2].hasSuffix(",runs/c"))
        try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: dir.file("other.csv")))
        #expect(throws: DefenseError.self) { try report.appendResults(to: dir.file("other.csv")) }
        #expect(try String(contentsOfFile: dir.file("other.csv"), encoding: .utf8) == "a,b\n1,2\n")
    }
}
