import ObservatoryOTLP

typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue

// Short constructors so span builders read like the attribute tables in the
// semantic conventions. Public for the benchmarks' own traffic (`GatewayTraffic`).
extension Opentelemetry_Proto_Common_V1_KeyValue {
    public static func string(_ key: String, _ value: String) -> Self {
        var pair = Self()
        pair.key = key
        pair.value.stringValue = value
        return pair
    }

    public static func int(_ key: String, _ value: Int) -> Self {
        var pair = Self()
        pair.key = key
        pair.value.intValue = Int64(value)
        return pair
    }

    public static func bool(_ key: String, _ value: Bool) -> Self {
        var pair = Self()
        pair.key = key
        pair.value.boolValue = value
        return pair
    }
}
