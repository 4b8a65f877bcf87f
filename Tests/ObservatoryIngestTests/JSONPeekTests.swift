import XCTest

@testable import ObservatoryIngest

final class JSONPeekTests: XCTestCase {
    func testValueAtPath() {
        let request =
            #" { "method" : "tools/call", "params": {"meta": {"a": [1, {"name": "no"}]}, "name": "add", "n": -1.5e3} } "#
        XCTAssertEqual(JSONPeek.value(at: ["params", "name"], in: request), .string("add"))
        XCTAssertEqual(JSONPeek.value(at: ["params", "n"], in: request), .number("-1.5e3"))
        XCTAssertEqual(JSONPeek.value(at: ["params", "meta"], in: request), .object)
        XCTAssertEqual(JSONPeek.value(at: ["method"], in: request), .string("tools/call"))
        XCTAssertNil(JSONPeek.value(at: ["params", "uri"], in: request))
        XCTAssertNil(JSONPeek.value(at: ["method", "name"], in: request))
        XCTAssertNil(JSONPeek.value(at: [], in: request))
    }

    func testStringsAreDecoded() {
        XCTAssertEqual(
            JSONPeek.value(at: ["k"], in: #"{"k": "a\"b\\c\/d\n\u00e9\ud83d\ude00"}"#), .string("a\"b\\c/d\né\u{1F600}"))
        // A key written with an escape is not the same bytes and is not found; a broken escape gives nothing.
        XCTAssertNil(JSONPeek.value(at: ["k"], in: #"{"\u006b": 1}"#))
        XCTAssertNil(JSONPeek.value(at: ["k"], in: #"{"k": "\x"}"#))
        XCTAssertEqual(JSONPeek.value(at: ["k"], in: #"{"k": "\ud800"}"#), .string("\u{FFFD}"))
    }

    func testBrokenOrCutTextGivesWhatCameBefore() {
        XCTAssertEqual(JSONPeek.value(at: ["a"], in: #"{"a": "x", "b": "…[truncated 300 chars]"#), .string("x"))
        XCTAssertNil(JSONPeek.value(at: ["b"], in: #"{"a": "x", "b": "unterminated"#))
        XCTAssertNil(JSONPeek.value(at: ["a"], in: "not json"))
        XCTAssertNil(JSONPeek.value(at: ["a"], in: ""))
        XCTAssertNil(JSONPeek.value(at: ["a"], in: #"["a"]"#))
        XCTAssertNil(JSONPeek.value(at: ["b"], in: "{\"a\": " + String(repeating: "[", count: 10_000)))
    }

    func testReadsNoFurtherThanTheBound() {
        let padding = String(repeating: "x", count: JSONPeek.maxBytes)
        XCTAssertEqual(JSONPeek.value(at: ["b"], in: #"{"b": 1, "pad": ""# + padding + #""}"#), .number("1"))
        XCTAssertNil(JSONPeek.value(at: ["b"], in: #"{"pad": ""# + padding + #"", "b": 1}"#))
    }

    func testFailure() {
        XCTAssertEqual(
            JSONPeek.failure(in: #"{"content":[{"type":"text","text":"first"},{"type":"text","text":"second"}],"isError":true}"#),
            JSONPeek.Failure(isError: true, code: nil, message: "first"))
        XCTAssertEqual(
            JSONPeek.failure(in: #"{"root":{"result":{"isError":true}}}"#),
            JSONPeek.Failure(isError: true, code: nil, message: nil))
        XCTAssertEqual(
            JSONPeek.failure(in: #"{"error":{"message":"gone","code":-32002,"data":{"uri":"x"}}}"#),
            JSONPeek.Failure(isError: false, code: "-32002", message: "gone"))
        XCTAssertNil(JSONPeek.failure(in: #"{"content":[{"text":"\"isError\": true"}],"isError":false}"#))
        XCTAssertNil(JSONPeek.failure(in: #"{"structuredContent":{"isError":true}}"#))
        XCTAssertNil(JSONPeek.failure(in: #"{"a":{"b":{"c":{"isError":true}}}}"#))
        // Three levels of result/root are more than any library writes: not read.
        XCTAssertNil(JSONPeek.failure(in: #"{"root":{"result":{"result":{"isError":true}}}}"#))
        XCTAssertNil(JSONPeek.failure(in: #"{"content":[]}"#))
    }

    func testOnlyKeysThatCouldReportAFailureStartAWalk() {
        func may(_ text: String, bareError: Bool = false) -> Bool {
            var text = text
            return text.withUTF8 { JSONPeek.mayReportFailure($0, bareError: bareError) }
        }
        XCTAssertTrue(may(#"{"isError":true}"#))
        XCTAssertTrue(may(#"{"isError" :  true}"#))
        XCTAssertTrue(may(#"{"is_error": true}"#))
        XCTAssertTrue(may(#"{"error": {"code": 1}}"#))
        XCTAssertTrue(may(#"{"code": -1}"#, bareError: true))
        XCTAssertFalse(may(#"{"code": -1}"#))
        XCTAssertFalse(may(#"{"isError":false,"error":null,"code":"x"}"#, bareError: true))
        XCTAssertFalse(may(#"{"text":"\"isError\": true"}"#))
        XCTAssertFalse(may(#"{"isError""#))
        XCTAssertFalse(may(#"{"isError":"#))
    }

    func testBareErrorObject() {
        let bare = #"{"code":0,"message":"Unknown resource: res://docs/missing","data":null}"#
        XCTAssertEqual(
            JSONPeek.failure(in: bare, bareError: true),
            JSONPeek.Failure(isError: false, code: "0", message: "Unknown resource: res://docs/missing"))
        XCTAssertNil(JSONPeek.failure(in: bare))
        // Only a whole error object: other members, a string code or a missing message make it data.
        XCTAssertNil(JSONPeek.failure(in: #"{"code":200,"message":"OK","items":[]}"#, bareError: true))
        XCTAssertNil(JSONPeek.failure(in: #"{"code":"E1","message":"x"}"#, bareError: true))
        XCTAssertNil(JSONPeek.failure(in: #"{"code":-1}"#, bareError: true))
        XCTAssertNil(JSONPeek.failure(in: #"{"result":{"code":-1,"message":"x"}}"#, bareError: true))
    }
}
