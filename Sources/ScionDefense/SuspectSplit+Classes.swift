import ScionImage

/// The per-class measures the split judges and sizes classes by: standing out, own-loss shares,
/// natural sizes, and the order statistics under them.
extension SuspectSplit {
    /// The classes of `holdout` (the trusted images) with fewer than `minimumTrusted` images,
    /// with their counts: the split can judge them by score only and never sizes them below the
    /// median class.
    public static func thinlyTrusted(_ holdout: ImageSet, _ rule: Rule) -> [(label: Int, count: Int)] {
        var counts = [Int](repeating: 0, count: holdout.classes)
        for label in holdout.labels where label >= 0 && Int(label) < counts.count { counts[Int(label)] += 1 }
        return counts.enumerated().filter { $0.element < rule.minimumTrusted }.map { ($0.offset, $0.element) }
    }

    /// Per class, the size it would have unpoisoned, as far as the split can tell: the median
    /// class size, moved into the range the trusted images allow (the class's share of them, two
    /// standard errors either way, times the training set's size). On balanced data the median
    /// is exact and lies in that range (CIFAR-10's 250 trusted images per class: ±6 %). On a
    /// long-tailed Fashion-MNIST the median is wrong both ways: the largest class, a target,
    /// would have had 6,150 of its 8,148 images "excess" against 2,452 poisons; a small target
    /// (742 clean T-shirts, 33 trusted) a natural size of 2,099, an excess of 1,095 against 2,452
    /// poisons (now 843 and 2,351). The trusted share assumes trusted images drawn like the
    /// training set (`--ratio-holdout`); a user's folder that over- or under-represents a class
    /// moves its excess the other way, so a class with fewer than `minimumTrusted` trusted images
    /// is never sized below the median.
    static func naturalSizes(_ members: [[Int]], trustedCounts: [Int]?, minimumTrusted: Int) -> [Double] {
        let medianSize = median(members.map { Double($0.count) })
        let h = Double(trustedCounts?.reduce(0, +) ?? 0)
        guard let trusted = trustedCounts, h > 0 else { return members.map { _ in medianSize } }
        let n = Double(members.reduce(0) { $0 + $1.count })
        return members.indices.map { k in
            let count = k < trusted.count ? trusted[k] : 0
            let p = Double(count) / h
            let margin = 2 * (p * (1 - p) / h).squareRoot()
            let atLeast = max(medianSize, (p - margin) * n)
            return count < max(1, minimumTrusted) ? atLeast : min(atLeast, (p + margin) * n)
        }
    }

    /// The classes whose share stands out: at least `minimum`, `shareFactor` times the median
    /// class's share and `leaderFraction` of the largest.
    static func standouts(_ shares: [Double], minimum: Double, _ rule: Rule) -> [Int] {
        let bar = max(minimum, rule.shareFactor * median(shares), rule.leaderFraction * (shares.max() ?? 0))
        return shares.indices.filter { shares[$0] > 0 && shares[$0] >= bar }
    }

    /// Per class, the share of its training images (`members`) whose trapped loss is at most the
    /// `lowLossQuantile` quantile of its own `trusted` images' (all zero when the rule is off; zero
    /// for a class with fewer than `minimumTrusted` trusted images, whose quantile is noise).
    /// Trusted images are unseen by the trapped model and carry no trigger, so a clean class's
    /// share stays near the quantile while a trigger fitted to near-zero loss lifts its class's.
    /// Each class is its own yardstick: an easy clean class fits its trusted images as well.
    public static func ownLossShares(
        _ losses: [Double], _ members: [[Int]], _ rule: Rule, trusted: (losses: [Double], members: [[Int]])
    ) -> [Double] {
        members.enumerated().map { k, mine in
            let own = k < trusted.members.count ? trusted.members[k].map { trusted.losses[$0] } : []
            guard rule.lowLossQuantile > 0, !mine.isEmpty, own.count >= max(1, rule.minimumTrusted),
                let bar = quantile(own, rule.lowLossQuantile)
            else { return 0 }
            return Double(mine.filter { losses[$0] <= bar }.count) / Double(mine.count)
        }
    }

    /// How many of a class's `size` images its own-loss `share` says the trigger made easy: a
    /// clean class's share is about `lowLossQuantile` by chance, the rest is poisons. A second
    /// estimate beside the size excess, the one a clean-label attack leaves (its poisons are the
    /// class's own images).
    public static func poisonEstimate(share: Double, size: Int, _ rule: Rule) -> Int {
        let q = rule.lowLossQuantile
        guard q > 0, q < 1, share > q else { return 0 }
        return min(size, Int(((share - q) / (1 - q) * Double(size)).rounded()))
    }

    /// The trapped loss at or below which a poisoned class's image is left out: the
    /// `lowLossQuantile` quantile over the unpoisoned classes' images (nil: rule off, or no such
    /// image).
    static func lowLossBar(_ losses: [Double], labels: [Int], poisoned: [Int], rule: Rule) -> Double? {
        guard rule.lowLossQuantile > 0, !poisoned.isEmpty else { return nil }
        return quantile(
            labels.indices.filter { !poisoned.contains(labels[$0]) }.map { losses[$0] }, rule.lowLossQuantile)
    }

    /// The `q` quantile of `xs` (the value at rank ⌊q·n⌋ of the sorted values; nil when empty).
    static func quantile(_ xs: [Double], _ q: Double) -> Double? {
        guard !xs.isEmpty else { return nil }
        let sorted = xs.sorted()
        return sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
