import ArgumentParser
import Foundation
import ScionData
import ScionImage
import ScionTraining

/// `scion datasets`: what Scion reads, and counts for one dataset.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets", abstract: "List the supported datasets and the layout each expects.",
        subcommands: [List.self, Stats.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List datasets and trigger patterns.")
        func run() throws {
            print("datasets (--ds):")
            for name in DatasetName.allCases {
                print(
                    "  \(name.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(name.layout)"
                        + (name.defaultRoot.map { " [default root \($0)]" } ?? ""))
            }
            print("trigger patterns (--pattern):")
            for p in TriggerPattern.allCases {
                print("  \(p.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(p.summary)")
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats", abstract: "Image counts per split and per class, and the image shape.")
        @OptionGroup var data: DataOptions
        @Flag(help: "Print JSON (keys train, test, classes, image_shape, per_class).")
        var json = false

        struct Report: Encodable {
            let dataset: String
            let train: Int
            let test: Int
            let classes: Int
            let image_shape: [Int]
            let class_names: [String]
            let per_class: [String: [String: Int]]
        }

        func run() throws {
            let d = try data.load()
            func counts(_ set: ImageSet) -> [Int] {
                var c = [Int](repeating: 0, count: set.classes)
                for l in set.labels { c[Int(l)] += 1 }
                return c
            }
            let train = counts(d.train), test = counts(d.test)
            let report = Report(
                dataset: d.name.rawValue, train: d.train.count, test: d.test.count, classes: d.train.classes,
                image_shape: [d.train.height, d.train.width, d.train.channels], class_names: d.train.classNames,
                per_class: [
                    "train": Dictionary(
                        uniqueKeysWithValues: train.enumerated().map { (String($0.offset), $0.element) }),
                    "test": Dictionary(uniqueKeysWithValues: test.enumerated().map { (String($0.offset), $0.element) })
                ])
            if json { return try printJSON(report) }
            print(
                "\(report.dataset): \(report.train) training and \(report.test) test images, \(report.classes) classes, images \(d.train.height)x\(d.train.width)x\(d.train.channels)"
            )
            for k in 0..<d.train.classes {
                let name = k < d.train.classNames.count ? d.train.classNames[k] : String(k)
                print(
                    "  \(String(k).leftPad(3)) \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) train \(String(train[k]).leftPad(6))  test \(String(k < test.count ? test[k] : 0).leftPad(6))"
                )
            }
        }
    }
}
