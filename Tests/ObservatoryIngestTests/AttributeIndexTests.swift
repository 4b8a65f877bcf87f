import ObservatoryDemo
import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

/// The attribute index answers what a scan of the attributes answers, and the redaction
/// and classification made through it equal those made from the attributes alone.
final class AttributeIndexTests: XCTestCase {
    /// The index made from the keys as sent also serves the redacted copy only because no
    /// known key can be changed by cleaning (see `IndexedAttributes`).
    func testKnownKeysSurviveCleaningUnchanged() {
        let shortestLimit = 64  // OBSERVABILITY_MAX_ATTRIBUTE_LENGTH's lower bound
        for name in KnownKeys.names {
            XCTAssertLessThan(name.count, shortestLimit, name)
            XCTAssertFalse(name.utf8.contains(0), name)
            XCTAssertEqual(Redactor(maxValueLength: shortestLimit).clean(name), name)
        }
        XCTAssertEqual(Set(KnownKeys.names).count, KnownKeys.names.count, "a known key is listed twice")
    }

    /// Random attribute lists with repeated, known, unknown, secret and NUL-holding keys.
    func testIndexAnswersLikeAScan() {
        var random = SplitMix64(seed: 11)
        let keys = KnownKeys.names + ["other", "api_key", "x\u{0}y", String(repeating: "k", count: 100), "db.query.text"]
        for _ in 0..<2_000 {
            let attributes = (0..<Int(random.next() % 12)).map { position in
                Attribute(key: keys[Int(random.next() % UInt64(keys.count))], value: .int(Int64(position)))
            }
            let indexed = IndexedAttributes(attributes)
            XCTAssertEqual(indexed.index.facts.count, attributes.count)
            for name in KnownKeys.names {
                let key = KnownKey(name)
                XCTAssertEqual(indexed[key], attributes[key: name], name)
                XCTAssertEqual(indexed.contains(key), attributes.contains { $0.key == name }, name)
            }
        }
    }

    /// Redaction through the index (facts per position, the span's database system from the
    /// index) equals redaction key by key.
    func testRedactionThroughTheIndexEqualsRedactionByKey() {
        var random = SplitMix64(seed: 12)
        let keys = [
            "db.statement", "db.system", "db.system.name", "url.query", "url.full", "password", "auth_token",
            "input_tokens", "x\u{0}y", String(repeating: "k", count: 100), "sql.query", "note",
        ]
        let values: [AttributeValue] = [
            .string("SELECT * FROM t WHERE a = 'secret'"), .string("mysql"), .string("postgresql"),
            .string("token=abc&x=1"), .string("https://user:pw@host/p?key=1"), .int(42), .bool(true),
            .array([.string("a=b"), .int(1)]), .map([Attribute(key: "password", value: .string("p"))]),
            .string(String(repeating: "v", count: 200)), .bytes(Array(repeating: 7, count: 100)),
        ]
        let redactor = Redactor(maxValueLength: 64)
        for _ in 0..<2_000 {
            let attributes = (0..<Int(random.next() % 8)).map { _ in
                Attribute(
                    key: keys[Int(random.next() % UInt64(keys.count))], value: values[Int(random.next() % UInt64(values.count))])
            }
            XCTAssertEqual(redactor.redact(IndexedAttributes(attributes)), redactor.redact(attributes), "\(attributes)")
        }
    }
}
