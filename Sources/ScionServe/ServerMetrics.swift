import Foundation
import Prometheus

/// Prometheus metrics of the server, rendered at `GET /metrics`: requests and errors by
/// endpoint, model and status; requests in flight (received, not yet answered); request
/// latency; samples per executed batch.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let batchSize: ValueHistogram
    let inFlight: Gauge
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "scion", metricName: "requests", unitName: "total", helpText: "Requests answered")
    }
    private static var errors: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "scion", metricName: "request_errors", unitName: "total",
            helpText: "Requests answered with a 4xx or 5xx status")
    }
    private static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "scion", metricName: "request_duration", unitName: "seconds",
            helpText: "Request latency, from head received to response")
    }
    private static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)
    ]

    init() {
        batchSize = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "scion", metricName: "batch", unitName: "size", helpText: "Samples per executed batch"),
            labels: [], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        // A count has no unit; an empty unit leaves the name as it is (`scion_requests_in_flight`).
        inFlight = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "scion", metricName: "requests_in_flight", unitName: "",
                helpText: "Requests whose head has arrived and that are not yet answered"))
    }

    func record(endpoint: String, model: String, status: Int, seconds: Double) {
        let labels = [("endpoint", endpoint), ("model", model), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        if status >= 400 {
            registry.makeCounter(descriptor: Self.errors, labels: labels).increment()
        }
        registry.makeDurationHistogram(
            descriptor: Self.duration, labels: [("endpoint", endpoint)], buckets: Self.latencyBuckets
        )
        .record(.nanoseconds(Int64(seconds * 1e9)))
    }

    var text: String { registry.emitToString() }
}
