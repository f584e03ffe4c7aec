import Foundation

/// The progress line on stderr: epoch, step, loss terms, accuracy, images/s and time left.
/// On a terminal it rewrites one line a few times a second; otherwise (logs, CI) it prints a
/// line per quarter epoch.
final class Progress {
    let label: String
    let epochs: Int
    let steps: Int
    let enabled: Bool
    let interactive: Bool
    let stepsToDo: Int
    private var stepsDone = 0
    private let started = ActiveClock.now()
    private var lastDraw = -Double.infinity

    init(label: String, epochs: Int, steps: Int, enabled: Bool, stepsToDo: Int) {
        self.label = label
        self.epochs = epochs
        self.steps = steps
        self.enabled = enabled
        self.stepsToDo = stepsToDo
        interactive = isatty(2) != 0
    }

    func step(epoch: Int, index: Int, loss: Double, terms: [String: Double], accuracy: Double, imagesPerSecond: Double)
    {
        stepsDone += 1
        guard enabled else { return }
        let quarter = max(1, steps / 4)
        let now = ActiveClock.now()
        guard interactive ? now - lastDraw > 0.25 || index + 1 == steps : (index + 1) % quarter == 0
        else { return }
        lastDraw = now
        let elapsed = now - started
        let eta = elapsed / Double(stepsDone) * Double(stepsToDo - stepsDone)
        let parts = terms.keys.sorted().map { String(format: "%@ %.4f", $0 as NSString, terms[$0]!) }.joined(
            separator: " ")
        let line = String(
            format: "%@ epoch %d/%d step %d/%d loss %.4f (%@) acc %.1f%% %.0f img/s ETA %@",
            label as NSString, epoch + 1, epochs, index + 1, steps, loss, parts as NSString, accuracy * 100,
            imagesPerSecond,
            Self.duration(eta) as NSString)
        write(interactive ? "\r\u{1B}[K" + line : line + "\n")
    }

    func finishEpoch(_ record: EpochRecord) {
        guard enabled else { return }
        let metrics = record.metrics.keys.sorted().map {
            String(format: "%@ %.4f", $0 as NSString, record.metrics[$0]!)
        }.joined(separator: " ")
        let line = String(
            format: "%@ epoch %d/%d done: loss %.4f train acc %.1f%% lr %.2e %.0f img/s %.1fs %@",
            label as NSString, record.epoch, epochs, record.loss, record.train_accuracy * 100, record.learning_rate,
            record.images_per_second, record.seconds, metrics as NSString)
        write((interactive ? "\r\u{1B}[K" : "") + line + "\n")
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds)
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
