import Hummingbird
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
