import Hummingbird
import Metrics
import Prometheus

/// `GET /metrics`: the process's swift-metrics in Prometheus text format. Figures that
/// are states rather than events (the writer's queue depth) are read just before each
/// scrape by `update`, so they are exact at scrape time without a timer.
public struct PrometheusController: Sendable {
    let registry: PrometheusCollectorRegistry
    let update: @Sendable () -> Void

    public init(registry: PrometheusCollectorRegistry, update: @escaping @Sendable () -> Void = {}) {
        self.registry = registry
        self.update = update
    }

    public func addRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("/metrics") { _, _ in
            update()
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}

/// The process's swift-metrics backend.
public enum PrometheusMetrics {
    /// Bootstraps swift-metrics with a Prometheus registry, once per process and before
    /// anything creates a counter: swift-metrics binds each one to the backend when it is
    /// made. Buckets fit what is measured: a metric refresh can take minutes, a batch holds
    /// up to `OBSERVABILITY_BATCH_MAX_SPANS` spans.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["observatory_maintenance_duration_seconds"] =
            [10, 50, 100, 500, 1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000].map { .milliseconds($0) }
        factory.valueHistogramBuckets["observatory_writer_batch_spans"] =
            [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 100_000]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
