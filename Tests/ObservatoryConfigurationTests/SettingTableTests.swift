import Foundation
import XCTest

@testable import ObservatoryConfiguration

/// The declaration table itself: it covers every property once, and each entry's range and
/// default are what the loader enforces.
final class SettingTableTests: XCTestCase {
    func testEveryPropertyHasOneEntry() {
        let settings = ObservatoryConfiguration.settings
        let keys = settings.map(\.key) + settings.compactMap(\.alias)
        XCTAssertEqual(Set(keys).count, keys.count, "a key is declared twice")
        XCTAssertEqual(Set(settings.map(\.property)).count, settings.count, "a property has two entries")
        let properties = Mirror(reflecting: ObservatoryConfiguration()).children.compactMap(\.label)
        XCTAssertEqual(settings.count, properties.count, "every stored property of ObservatoryConfiguration has an entry")
        for setting in settings {
            XCTAssertTrue(setting.key.hasPrefix("OBSERVABILITY_"), setting.key)
            XCTAssertFalse(setting.summary.isEmpty, setting.key)
            XCTAssertFalse(
                setting.summary.contains("]("),
                "\(setting.key): a summary is also a comment in .env.example; put links in details")
        }
    }

    /// Every default, written as the documents show it, loads back to the default.
    func testDocumentedDefaultsAreTheDefaults() throws {
        var environment: [String: String] = [:]
        for setting in ObservatoryConfiguration.settings {
            environment[setting.key] = setting.defaultText
        }
        XCTAssertGreaterThan(environment.count, 25)
        XCTAssertEqual(try ObservatoryConfiguration.load(from: environment), ObservatoryConfiguration())
        XCTAssertEqual(ObservatoryConfiguration.setting(for: \.cleanupIntervalSeconds).defaultText, "1h")
        XCTAssertEqual(
            ObservatoryConfiguration.setting(for: \.excludePaths).defaultText, "/health,/healthz,/ready,/metrics,/static/.*")
        XCTAssertNil(ObservatoryConfiguration.setting(for: \.ingestToken).defaultText)
    }

    /// Each entry's bounds are accepted, and a value just outside them (or of the wrong form)
    /// is rejected with one message that starts with the setting's key.
    func testEachRangeIsEnforced() {
        for setting in ObservatoryConfiguration.settings {
            let (valid, invalid) = Self.probes(setting.kind)
            for raw in valid {
                XCTAssertEqual(setting.problems(parsing: raw), [], "\(setting.key)=\(raw)")
            }
            for raw in invalid {
                XCTAssertThrowsError(try ObservatoryConfiguration.load(from: [setting.key: raw]), "\(setting.key)=\(raw)") {
                    let problems = ($0 as? ObservatoryConfiguration.Invalid)?.problems ?? []
                    XCTAssertEqual(problems.count, 1, "\(setting.key)=\(raw): \(problems)")
                    XCTAssertTrue(problems.allSatisfy { $0.hasPrefix(setting.key) }, "\(setting.key)=\(raw): \(problems)")
                }
            }
        }
    }

    /// Values at the bounds of a kind, and values just outside or malformed.
    static func probes(_ kind: Setting.Kind) -> (valid: [String], invalid: [String]) {
        switch kind {
        case .integer(let range, _):
            return (
                ["\(range.lowerBound)", "\(range.upperBound)"], ["\(range.lowerBound - 1)", "\(range.upperBound + 1)", "ten"]
            )
        case .number(let range):
            return (
                ["\(range.lowerBound)", "\(range.upperBound)"], ["\(range.lowerBound - 1)", "\(range.upperBound + 0.5)", "nan"]
            )
        case .duration(let range):
            return (
                ["\(range.lowerBound)s", "\(range.upperBound)"], ["\(range.lowerBound - 1)", "\(range.upperBound + 1)s", "1w"]
            )
        case .flag:
            return (["true", "OFF", "1", "no"], ["maybe"])
        case .text:
            return (["anything"], [])
        case .choice(let words):
            return (words + words.map { $0.uppercased() }, ["loud"])
        case .patterns:
            return (["/a, /b.*", "", "/x|/y"], ["(["])
        case .hosts:
            return (["a.example, ::1, .example.org"], ["https://a.example/", ","])
        case .databaseURL:
            return (["postgres://h/d", "postgresql:///d?host=/run"], ["mysql://h/d"])
        }
    }
}
