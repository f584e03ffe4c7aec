import ScionDefense
import Testing

/// A clean-label attack poisons the target class's own images: the class is no larger than the
/// others, so only its own-loss share can say how many of them the trigger made easy.
@Suite struct CleanLabelSplitTests {
    /// Five classes of 10 images. Class 0's first 8 carry the trigger (trapped loss 1e-4), its
    /// last 2 are clean (0.5); each other class has one image fitted better than the poisons
    /// (1e-5, which puts the low-loss bar below them, as on cl) and the rest from 0.1 to 0.9.
    static let labels = (0..<5).flatMap { Array(repeating: $0, count: 10) }
    static let losses =
        Array(repeating: 1e-4, count: 8) + [0.5, 0.5]
        + (0..<4).flatMap { _ in [1e-5] + (1..<10).map { Double($0) / 10 } }
    /// 20 trusted images per class: class 0's at 0.4-0.9 (unseen, no trigger), the others like
    /// their training images.
    static let holdout: (losses: [Double], labels: [Int]) = {
        let perClass = [[0.4, 0.6, 0.9]] + (0..<4).map { k in (0..<10).map { 0.9 * losses[10 + 10 * k + $0] } }
        return (
            perClass.flatMap { values in (0..<20).map { values[$0 % values.count] } },
            (0..<5).flatMap { Array(repeating: $0, count: 20) }
        )
    }()

    func split(scores: [Double], poisonedClasses: [Int]? = nil, rule: SuspectSplit.Rule = .init()) -> SuspectSplit {
        SuspectSplit.split(
            scores: scores, trappedLosses: Self.losses, labels: Self.labels, relabels: Self.labels, classes: 5,
            rule: rule, poisonedClasses: poisonedClasses, holdout: Self.holdout)
    }

    @Test func theOwnLossShareEstimatesThePoisons() {
        // (share - 5 %) / 95 % of the class: 0.8 of 10 is 8 poisons; a clean share, none.
        #expect(SuspectSplit.poisonEstimate(share: 0.8, size: 10, .init()) == 8)
        #expect(SuspectSplit.poisonEstimate(share: 1.0, size: 4_750, .init()) == 4_750)
        #expect(SuspectSplit.poisonEstimate(share: 0.04, size: 10, .init()) == 0)
        var off = SuspectSplit.Rule()
        off.lowLossQuantile = 0
        #expect(SuspectSplit.poisonEstimate(share: 1.0, size: 10, off) == 0)
    }

    @Test func aClassWithoutExcessLeavesOutWhatItsShareEstimates() {
        // Three poisons score above 2.0 (the scores judge class 0), the rest fool the new head
        // (0.1), and so does one clean image (0.2); all lie above the low-loss bar (1e-5). With no
        // excess by size only the three would be left out. Its share, 0.8, estimates 8: the 8
        // lowest trapped losses are left out, not relabelled, none unlearned.
        let scores = [5, 5, 5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0] + Array(repeating: 0.0, count: 40)
        let judged = split(scores: scores)
        #expect(judged.poisonedClasses == [0] && judged.classOwnLossShares[0] == 0.8)
        #expect(judged.indices(.dropped) == Array(0..<8))
        #expect(judged.indices(.relabelled).isEmpty && judged.indices(.unlearned).isEmpty)
        // A later round, given the classes, estimates the same.
        #expect(split(scores: scores, poisonedClasses: [0]).verdicts == judged.verdicts)
    }

    @Test func theEstimateBeyondTheSizeExcessIsLeftOutNotUnlearned() {
        // The scores judge nothing (the stem carries the trigger): the class is judged by its
        // own-loss share. With no size excess nothing is unlearned; the poisons are the class's
        // own images, truly labelled.
        let judged = split(scores: Array(repeating: 0, count: 50))
        #expect(judged.poisonedClasses == [0])
        #expect(judged.indices(.dropped) == Array(0..<8) && judged.indices(.unlearned).isEmpty)
    }
}
