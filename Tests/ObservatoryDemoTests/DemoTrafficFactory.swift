import ObservatoryDemo

enum DemoTrafficFactory {
    static func make(seed: UInt64, spacingNanos: UInt64 = 50_000_000) -> DemoTraffic {
        DemoTraffic(seed: seed, startUnixNano: Sample.start, spacingNanos: spacingNanos)
    }
}
