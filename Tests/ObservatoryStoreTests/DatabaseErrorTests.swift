import PostgresNIO
import XCTest
import _ConnectionPoolModule

@testable import ObservatoryStore

/// The server's SQLSTATEs, by PostgresNIO's typed codes, to what callers do about them.
final class DatabaseErrorTests: XCTestCase {
    private func classify(_ code: PostgresError.Code) -> DatabaseError {
        DatabaseError(server: code, message: "m")
    }

    func testConflictsAreTransientAndAUniqueViolationIsADuplicate() {
        for code in [PostgresError.Code.serializationFailure, .deadlockDetected, .lockNotAvailable] {
            guard case .transient = classify(code) else { return XCTFail("\(code.raw): \(classify(code))") }
        }
        guard case .duplicate = classify(.uniqueViolation) else { return XCTFail("\(classify(.uniqueViolation))") }
    }

    func testConnectionResourceAndShutdownClassesAreUnavailable() {
        let codes: [PostgresError.Code] = [
            .connectionFailure, .tooManyConnections, .diskFull, .adminShutdown, .cannotConnectNow, .queryCanceled,
            .readOnlySqlTransaction,
        ]
        for code in codes {
            guard case .unavailable = classify(code) else { return XCTFail("\(code.raw): \(classify(code))") }
        }
    }

    func testDataAndIntegrityClassesAreTheDataFault() {
        for code in [PostgresError.Code.invalidTextRepresentation, .numericValueOutOfRange, .notNullViolation, .checkViolation] {
            guard case .rejectedData(let state, _) = classify(code), state == code.raw else {
                return XCTFail("\(code.raw): \(classify(code))")
            }
        }
    }

    func testEverythingElseIsUnexpected() {
        for code in [PostgresError.Code.syntaxError, .undefinedTable, .undefinedFunction, .insufficientPrivilege] {
            guard case .unexpected = classify(code) else { return XCTFail("\(code.raw): \(classify(code))") }
        }
    }

    func testTheClassOfACodeIsItsFirstTwoCharactersAsACode() {
        XCTAssertEqual(PostgresError.Code.divisionByZero.sqlStateClass, .dataException)
        XCTAssertEqual(PostgresError.Code.foreignKeyViolation.sqlStateClass, .integrityConstraintViolation)
        XCTAssertEqual(PostgresError.Code.adminShutdown.sqlStateClass, .operatorIntervention)
    }

    /// After a minute of failed connection attempts PostgresNIO's pool fails requests with
    /// its own error, not a PSQLError: a database that is down (a stopped standby) must still
    /// read as unavailable (503), not as a bug (500).
    func testAPoolThatGaveUpConnectingIsUnavailable() {
        guard case .unavailable = DatabaseError(ConnectionPoolError.connectionCreationCircuitBreakerTripped) else {
            return XCTFail("\(DatabaseError(ConnectionPoolError.connectionCreationCircuitBreakerTripped))")
        }
    }

    func testCancellationIsATimeoutAndOtherErrorsAreUnexpected() {
        guard case .unavailable = DatabaseError(CancellationError()) else { return XCTFail() }
        struct Other: Error {}
        guard case .unexpected = DatabaseError(Other()) else { return XCTFail() }
    }
}
