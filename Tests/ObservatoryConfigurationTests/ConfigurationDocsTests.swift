import Foundation
import XCTest

@testable import ObservatoryConfiguration

/// `.env.example` and the settings tables of `docs/configuration.md` are the rendering of the
/// declaration table. With `OBSERVATORY_WRITE_CONFIG_DOCS=1` (`make config-docs`) this test
/// writes them instead of failing.
final class ConfigurationDocsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testGeneratedDocumentsAreCurrent() throws {
        let writing = ProcessInfo.processInfo.environment["OBSERVATORY_WRITE_CONFIG_DOCS"] == "1"
        let markdown = Self.root.appendingPathComponent("docs/configuration.md")
        let documents: [(path: String, text: String)] = [
            (".env.example", ConfigurationDocs.envExample()),
            (
                "docs/configuration.md",
                try ConfigurationDocs.configurationMarkdown(updating: String(contentsOf: markdown, encoding: .utf8))
            ),
        ]
        for (path, rendered) in documents {
            let url = Self.root.appendingPathComponent(path)
            let committed = try String(contentsOf: url, encoding: .utf8)
            guard committed != rendered else { continue }
            if writing {
                try rendered.write(to: url, atomically: true, encoding: .utf8)
                print("wrote \(url.path)")
                continue
            }
            let old = committed.components(separatedBy: "\n")
            let new = rendered.components(separatedBy: "\n")
            let line = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
            XCTFail(
                """
                \(path) is not what ObservatoryConfiguration.settingGroups renders; run `make config-docs` \
                and commit the result. First difference at line \(line + 1):
                committed: \(line < old.count ? old[line] : "(end of file)")
                rendered:  \(line < new.count ? new[line] : "(end of file)")
                """)
        }
    }

    func testEveryKeyIsInTheDocuments() throws {
        let example = ConfigurationDocs.envExample()
        let table = ConfigurationDocs.markdownTable()
        for setting in ObservatoryConfiguration.settings {
            XCTAssertTrue(example.contains("\n# \(setting.key)="), "\(setting.key) has no line in .env.example")
            XCTAssertTrue(table.contains("| `\(setting.key)` |"), "\(setting.key) has no row in docs/configuration.md")
        }
        XCTAssertTrue(example.contains("# OBSERVABILITY_PORT=4318\n"))
        XCTAssertTrue(table.contains("`DATABASE_URL` is read instead when `OBSERVABILITY_DATABASE_URL` is unset or blank."))
    }

    func testRangesAsDocumented() {
        XCTAssertEqual(ObservatoryConfiguration.setting(for: \.port).format, "1–65535")
        XCTAssertEqual(ObservatoryConfiguration.setting(for: \.maxBodyBytes).format, "1024–1073741824 bytes (1 KiB–1 GiB)")
        XCTAssertEqual(ObservatoryConfiguration.setting(for: \.maxBodyBytes).defaultCell, "`16777216` (16 MiB)")
        XCTAssertEqual(
            ObservatoryConfiguration.setting(for: \.batchMaxSpans).format, "1–100000; at most `OBSERVABILITY_WRITER_QUEUE_SPANS`")
        XCTAssertEqual(
            ObservatoryConfiguration.setting(for: \.httpIdleTimeoutSeconds).format,
            "1 s–1 h: seconds, or a number with `s`, `m`, `h` or `d`")
        XCTAssertEqual(ObservatoryConfiguration.key(for: \.databaseURL), "OBSERVABILITY_DATABASE_URL")
        XCTAssertEqual(
            ObservatoryConfiguration.setting(for: \.databaseURL).notSetProblem,
            "OBSERVABILITY_DATABASE_URL (or DATABASE_URL) is not set")
    }

    func testMarkersAreRequired() {
        XCTAssertThrowsError(try ConfigurationDocs.configurationMarkdown(updating: "# Configuration\n"))
        let spliced = try? ConfigurationDocs.configurationMarkdown(
            updating: "before\n<!-- BEGIN settings -->\nstale\n<!-- END settings -->\nafter\n")
        XCTAssertEqual(spliced?.hasPrefix("before\n\(ConfigurationDocs.beginMarker)\n"), true)
        XCTAssertEqual(spliced?.hasSuffix("\n\(ConfigurationDocs.endMarker)\nafter\n"), true)
        XCTAssertEqual(spliced?.contains("stale"), false)
    }
}
