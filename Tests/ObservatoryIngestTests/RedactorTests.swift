import XCTest

@testable import ObservatoryIngest

final class RedactorTests: XCTestCase {
    let redactor = Redactor(maxValueLength: 100)

    private func stored(_ key: String, _ value: AttributeValue) -> AttributeValue {
        redactor.redact([Attribute(key: key, value: value)])[0].value
    }

    func testSecretKeys() {
        for key in [
            "http.request.header.authorization", "Authorization", "cookie", "http.response.header.set-cookie", "password",
            "db.passwd", "client_secret", "auth_token", "accessToken", "x-api-key", "apiKey", "api_key", "private_key",
            "refresh_token", "jwt", "aws.secret_access_key", "credentials", "XAPIKey", "dbpassword",
        ] {
            XCTAssertTrue(Redactor.isSecret(key: key), key)
            XCTAssertEqual(stored(key, .string("s3cr3t")), .string(Redactor.marker), key)
        }
    }

    func testKeysThatOnlyLookSecret() {
        for key in ["gen_ai.usage.input_tokens", "max_tokens", "keyboard", "http.route", "tokenizer", "passage", "monkey"] {
            XCTAssertFalse(Redactor.isSecret(key: key), key)
        }
        XCTAssertEqual(stored("gen_ai.usage.input_tokens", .string("abc")), .string("abc"))
    }

    func testNumbersUnderSecretKeysStay() {
        XCTAssertEqual(stored("token_count", .int(42)), .int(42))
        XCTAssertEqual(stored("token", .array([.string("a")])), .string(Redactor.marker))
        XCTAssertEqual(stored("cookie", .bytes([1, 2])), .string(Redactor.marker))
    }

    func testNestedMapsAreRedacted() {
        let value = stored("headers", .map([Attribute(key: "authorization", value: .string("Bearer x")), Attribute(key: "accept", value: .string("json"))]))
        XCTAssertEqual(value, .map([Attribute(key: "authorization", value: .string(Redactor.marker)), Attribute(key: "accept", value: .string("json"))]))
    }

    func testSQLLiteralsRemoved() {
        let cases: [(String, String)] = [
            ("SELECT * FROM orders WHERE customer_id = 4711 AND status = 'open'", "SELECT * FROM orders WHERE customer_id = ? AND status = ?"),
            ("INSERT INTO t (a, b) VALUES ('it''s', -3.5e10)", "INSERT INTO t (a, b) VALUES (?, -?)"),
            ("SELECT $1, $2 FROM t2 WHERE x = E'\\n'", "SELECT $1, $2 FROM t2 WHERE x = ?"),
            ("SELECT $$secret body$$, $tag$x$tag$", "SELECT ?, ?"),
            ("SELECT \"col1\" FROM t -- password is hunter2\nWHERE y = 0x1F", "SELECT \"col1\" FROM t \nWHERE y = ?"),
            ("UPDATE users SET pw = 'p' /* secret */ WHERE id=7", "UPDATE users SET pw = ?   WHERE id=?"),
            ("SELECT /* a /* nested */ 'still comment' */ 1", "SELECT   ?"),
        ]
        for (sql, expected) in cases {
            XCTAssertEqual(stored("db.query.text", .string(sql)), .string(expected), sql)
        }
        XCTAssertEqual(stored("db.statement", .string("select 1")), .string("select ?"))
    }

    func testURLsLoseCredentials() {
        XCTAssertEqual(
            stored("url.full", .string("https://user:hunter2@example.com/path?api_key=abc123&page=2")),
            .string("https://user:[REDACTED]@example.com/path?api_key=[REDACTED]&page=2"))
        XCTAssertEqual(
            stored("db.connection_string", .string("host=db user=app password=hunter2 dbname=x")),
            .string("host=db user=app password=[REDACTED] dbname=x"))
        XCTAssertEqual(stored("exception.message", .string("login failed for token=abc; retry")), .string("login failed for token=[REDACTED]; retry"))
        XCTAssertEqual(
            stored("note", .string("a postgres://u:one@h1/x and redis://v:two@h2/y")),
            .string("a postgres://u:[REDACTED]@h1/x and redis://v:[REDACTED]@h2/y"))
        XCTAssertEqual(stored("dsn", .string("password='a b' host=db")), .string("password=[REDACTED] host=db"))
        XCTAssertEqual(redactor.cleanText("GET /login?password=hunter2"), "GET /login?password=[REDACTED]")
    }

    func testLongValuesAreTruncatedWithMarker() {
        let long = String(repeating: "é", count: 150)
        guard case .string(let text) = stored("note", .string(long)) else { return XCTFail("not a string") }
        XCTAssertTrue(text.hasPrefix(String(repeating: "é", count: 100)))
        XCTAssertTrue(text.hasSuffix("…[truncated 50 chars]"), text)
        XCTAssertEqual(stored("note", .string(String(repeating: "x", count: 100))), .string(String(repeating: "x", count: 100)))
    }

    func testNULIsReplaced() {
        XCTAssertEqual(redactor.clean("a\u{0}b"), "a\u{FFFD}b")
    }
}
