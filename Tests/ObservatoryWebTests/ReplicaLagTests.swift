import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// How the read replica's status reads in the `Observatory-Replica-Lag-Seconds` header and
/// in the pages' line.
final class ReplicaLagTests: XCTestCase {
    func testTheHeaderHasThreeDecimalsOrSaysUnknown() {
        let cases: [(Double?, String)] = [
            (0, "0.000"), (0.0004, "0.000"), (0.0006, "0.001"), (2.31, "2.310"), (59.9999, "60.000"), (3_600.25, "3600.250"),
            (-1, "0.000"), (nil, "unknown"), (.infinity, "unknown"), (.nan, "unknown"),
        ]
        for (seconds, expected) in cases {
            XCTAssertEqual(
                ReplicaLag.headerValue(ReplicaStatus(inRecovery: true, lagSeconds: seconds)), expected,
                "\(String(describing: seconds))")
        }
    }

    func testTheLineNamesTheStateAndMarksALaggingStandby() {
        let cases: [(ReplicaStatus?, String, String)] = [
            (ReplicaStatus(inRecovery: true, lagSeconds: 0), "Read replica: up to date", "current"),
            (ReplicaStatus(inRecovery: true, lagSeconds: 2.31), "Read replica: 2.31 s behind", "current"),
            (ReplicaStatus(inRecovery: true, lagSeconds: 0.25), "Read replica: 250 ms behind", "current"),
            (
                ReplicaStatus(inRecovery: true, lagSeconds: ReplicaLag.behindAfterSeconds), "Read replica: 10.00 s behind",
                "behind"
            ),
            (ReplicaStatus(inRecovery: true, lagSeconds: 125), "Read replica: 2 m 5 s behind", "behind"),
            (ReplicaStatus(inRecovery: true, lagSeconds: nil), "Read replica: lag unknown", "unknown"),
            (ReplicaStatus(inRecovery: false, lagSeconds: 0), "Reads from a server that is not a standby", "primary"),
            (nil, "Read replica unavailable", "unavailable"),
        ]
        for (status, text, state) in cases {
            let line = ReplicaLag.line(status)
            XCTAssertEqual(line.text, text)
            XCTAssertEqual(line.state, state, text)
            XCTAssertFalse(line.title.isEmpty)
        }
    }

    /// What a client reads about a failing standby: its status and retry from the database
    /// error, never the error's own text.
    func testAReplicaFailureKeepsTheStatusAndHidesTheDatabaseText() {
        let down = ReadReplicaFailure(underlying: .unavailable("connection refused to 10.0.0.7:5432"))
        XCTAssertEqual(down.status, .serviceUnavailable)
        XCTAssertEqual(down.retryAfterSeconds, 5)
        XCTAssertEqual(down.clientMessage, "the read replica is unavailable (ingestion is not affected)")
        let conflict = ReadReplicaFailure(underlying: .transient("canceling statement due to conflict with recovery"))
        XCTAssertEqual(conflict.status, .serviceUnavailable)
        XCTAssertEqual(conflict.clientMessage, "the read replica: a transient database conflict")
        let broken = ReadReplicaFailure(underlying: .unexpected("42P01: relation \"observability.secret\" does not exist"))
        XCTAssertEqual(broken.status, .internalServerError)
        XCTAssertNil(broken.retryAfterSeconds)
        XCTAssertFalse(broken.clientMessage.contains("secret"))
        XCTAssertTrue(requestFailure(DatabaseError.unavailable("x"), readReplica: true) is ReadReplicaFailure)
        XCTAssertTrue(requestFailure(DatabaseError.unavailable("x"), readReplica: false) is DatabaseError)
        XCTAssertTrue(requestFailure(BadQuery(message: "m"), readReplica: true) is BadQuery)
    }
}
