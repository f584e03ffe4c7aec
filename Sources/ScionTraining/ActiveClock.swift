import Foundation
import Synchronization

/// Seconds the process has run, leaving out the time it was stopped (SIGSTOP, a suspended job):
/// the figure a run's compute time and images/s should report. A long experiment that shares the
/// machine is paused so another run has the cores, and wall time would count the pause.
///
/// A stop cannot be caught, so a watcher thread ticks every `tick` seconds; a gap between two
/// ticks longer than `stopGap` is a stop, and all of it but one tick is left out. `now()` applies
/// the same test, so a reading taken right after a resume, before the watcher runs, is right too.
public enum ActiveClock {
    static let tick = 0.25
    static let stopGap = 1.5

    /// Seconds since an arbitrary origin, stops left out; only differences mean anything.
    public static func now() -> Double {
        watcher.observe(monotonicSeconds())
    }

    private static let watcher: StopWatcher = {
        let watcher = StopWatcher(start: monotonicSeconds(), tick: tick, stopGap: stopGap)
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: tick)
                _ = watcher.observe(monotonicSeconds())
            }
        }
        thread.name = "scion-active-clock"
        thread.start()
        return watcher
    }()

    static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

/// The stop detection of `ActiveClock`, on readings of a monotonic clock (seconds) given to it.
public final class StopWatcher: Sendable {
    private struct State {
        var last: Double
        var stopped = 0.0
    }
    private let state: Mutex<State>
    public let tick: Double
    public let stopGap: Double

    public init(start: Double, tick: Double, stopGap: Double) {
        state = Mutex(State(last: start))
        self.tick = tick
        self.stopGap = stopGap
    }

    /// Takes a reading and returns it less the stops seen so far.
    public func observe(_ now: Double) -> Double {
        state.withLock { s in
            if now - s.last > stopGap { s.stopped += now - s.last - tick }
            s.last = max(s.last, now)
            return now - s.stopped
        }
    }

    /// Seconds left out as stops.
    public var stoppedSeconds: Double { state.withLock { $0.stopped } }
}
