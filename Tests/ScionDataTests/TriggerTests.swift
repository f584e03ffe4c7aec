import ScionData
import ScionGraph
import ScionImage
import Testing

/// Each trigger's pixels against the reference's definition.
@Suite struct TriggerTests {
    /// A 32x32x3 image whose pixel (y, x, c) is (y * 7 + x * 3 + c * 11) % 256.
    static func image(h: Int = 32, w: Int = 32, c: Int = 3) -> [UInt8] {
        (0..<(h * w * c)).map { i in UInt8(((i / c / w) * 7 + (i / c % w) * 3 + (i % c) * 11) % 256) }
    }

    func stamped(_ pattern: TriggerPattern, h: Int = 32, w: Int = 32, c: Int = 3, alpha: Float? = nil) throws -> (
        [UInt8], [UInt8], Trigger
    ) {
        let trigger = try TriggerFactory.make(pattern, height: h, width: w, channels: c, seed: 1, alpha: alpha)
        let before = Self.image(h: h, w: w, c: c)
        var after = before
        after.withUnsafeMutableBufferPointer { trigger.stamp($0.baseAddress!) }
        return (before, after, trigger)
    }

    @Test func badnetGridHasTheReferenceValues() throws {
        let (before, after, _) = try stamped(.badnetGrid)
        let expected: [(Int, Int, UInt8)] = [
            (31, 31, 255), (31, 30, 0), (31, 29, 255), (30, 31, 0), (30, 30, 255), (30, 29, 0),
            (29, 31, 255), (29, 30, 0), (29, 29, 0)
        ]
        for (y, x, v) in expected { for c in 0..<3 { #expect(after[(y * 32 + x) * 3 + c] == v, "(\(y), \(x))") } }
        let changed = after.indices.filter { after[$0] != before[$0] }.map { ($0 / 3 / 32, $0 / 3 % 32) }
        #expect(changed.allSatisfy { $0.0 >= 29 && $0.1 >= 29 })
    }

    @Test func badnetSquareIsWhiteAtRows27To30() throws {
        let (before, after, _) = try stamped(.badnetSquare)
        for y in 0..<32 {
            for x in 0..<32 {
                let inside = (27...30).contains(y) && (27...30).contains(x)
                #expect(after[(y * 32 + x) * 3] == (inside ? 255 : before[(y * 32 + x) * 3]))
            }
        }
    }

    @Test func cleanLabelGridIsInAllFourCorners() throws {
        let (_, after, _) = try stamped(.cleanLabel)
        // The reference writes the same table from each border: corner pixels (31,31), (31,0)
        // and (0,31) are 255 but (0,0) is 0, with (2,0) and (0,2) at 255.
        for (y, x) in [(31, 31), (31, 0), (0, 31), (2, 0), (0, 2), (2, 2)] {
            #expect(after[(y * 32 + x) * 3] == 255, "(\(y), \(x))")
        }
        #expect(after[0] == 0 && after[(1 * 32 + 1) * 3] == 255)
        #expect(after[(31 * 32 + 2) * 3] == 255 && after[(29 * 32 + 2) * 3] == 255 && after[(29 * 32 + 0) * 3] == 0)
        #expect(after[(2 * 32 + 31) * 3] == 255 && after[(0 * 32 + 29) * 3] == 0 && after[(1 * 32 + 30) * 3] == 255)
    }

    @Test func blendAndSigFollowTheFormulaWithTruncation() throws {
        for pattern in [TriggerPattern.blend, .sig] {
            let (before, after, trigger) = try stamped(pattern)
            let t = try #require(trigger.image)
            for i in before.indices {
                let expected = UInt8((0.8 * Float(before[i]) + 0.2 * t[i]).rounded(.towardZero))
                #expect(after[i] == expected, "\(pattern) at \(i)")
            }
        }
        let (_, _, sig) = try stamped(.sig)
        let profile = (0..<16).map { sig.image![$0 * 3] }
        #expect(profile == [0, 14, 19, 13, 255, 241, 237, 244, 0, 14, 19, 13, 255, 241, 237, 244])
        #expect(sig.image![(5 * 32 + 4) * 3 + 2] == 255)  // constant down each column, on every channel
    }

    @Test func additiveTriggersClipAndStayInTheirRegion() throws {
        for (pattern, rows) in [(TriggerPattern.trojan3x3, 25...27), (.trojan8x8, 21...29)] {
            let (before, after, trigger) = try stamped(pattern)
            let t = try #require(trigger.image)
            for i in before.indices {
                let y = i / 3 / 32, x = i / 3 % 32
                if !(rows.contains(y) && rows.contains(x)) { #expect(t[i] == 0) }
                #expect(after[i] == UInt8(min(Float(before[i]) + t[i], 255)))
            }
            #expect(t.filter { $0 > 0 }.count == rows.count * rows.count * 3)
        }
        let (_, _, watermark) = try stamped(.trojanWatermark)
        #expect(Set(watermark.image!.indices.filter { watermark.image![$0] > 0 }.map { $0 / 3 }).count == 321)
        let (_, _, noise) = try stamped(.l2Invisible)
        #expect(noise.image!.max() == 68 && noise.image!.min() == 0)
    }

    @Test func l0OverwritesNineBottomPixels() throws {
        let (before, after, trigger) = try stamped(.l0Invisible)
        let changed = Set(after.indices.filter { after[$0] != before[$0] }.map { $0 / 3 })
        #expect(changed.isSubset(of: Set((23...31).map { 31 * 32 + $0 })))
        #expect(after[(31 * 32 + 23) * 3] == 0)  // masked, trigger 0 there
        #expect(trigger.mask!.filter { $0 == 1 }.count == 27)
    }

    @Test func smoothRenormalisesEachImageToTheFullRange() throws {
        let (_, after, trigger) = try stamped(.smooth)
        #expect(trigger.image!.max()! <= 51 && trigger.image!.min()! >= 0)
        #expect(after.max() == 255 && after.min() == 0)
    }

    @Test func triggersWorkOnSmallGrayImages() throws {
        let (_, after, _) = try stamped(.badnetGrid, h: 28, w: 28, c: 1)
        #expect(after[27 * 28 + 27] == 255 && after[27 * 28 + 26] == 0 && after[26 * 28 + 26] == 255)
        for pattern in TriggerPattern.allCases { _ = try stamped(pattern, h: 28, w: 28, c: 1) }
    }

    @Test func customTriggerAndAlpha() throws {
        let custom = Image(width: 8, height: 8, channels: 3, fill: 200)
        let trigger = try TriggerFactory.make(
            .blend, height: 32, width: 32, channels: 3, seed: 0, custom: custom, alpha: 0.5)
        var pixels = [UInt8](repeating: 100, count: 32 * 32 * 3)
        pixels.withUnsafeMutableBufferPointer { trigger.stamp($0.baseAddress!) }
        #expect(pixels.allSatisfy { $0 == 150 })
        #expect(throws: DataError.self) {
            try TriggerFactory.make(.badnetGrid, height: 32, width: 32, channels: 3, seed: 0, custom: custom)
        }
        #expect(throws: DataError.self) {
            try TriggerFactory.make(.blend, height: 32, width: 32, channels: 3, seed: 0, alpha: 2)
        }
    }
}
