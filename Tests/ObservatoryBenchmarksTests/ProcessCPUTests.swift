import Foundation
import XCTest

@testable import ObservatoryBenchmarks

/// The ingest benchmark's CPU figures come from `/proc`: this process's own use grows by
/// about the CPU it burns, and a process that is not PostgreSQL has no postmaster.
final class ProcessCPUTests: XCTestCase {
    func testOwnCPUGrowsByTheWorkDone() throws {
        let pid = Int(getpid())
        let before = ProcessCPU.now(serverPid: pid, postmasterPid: nil)
        let started = CPUClock.now
        var sum: UInt64 = 0
        while CPUClock.now - started < 0.3 {
            for value in 0..<100_000 { sum &+= UInt64(value) &* 2_654_435_761 }
        }
        let used = ProcessCPU.now(serverPid: pid, postmasterPid: nil) - before
        XCTAssertNotEqual(sum, 1)
        let server = try XCTUnwrap(used.server)
        // Clock ticks are 10 ms; the process's other threads may add a little.
        XCTAssertGreaterThanOrEqual(server, 0.25)
        XCTAssertLessThan(server, 1.5)
        XCTAssertNil(used.postgres)
    }

    func testNoPostmasterForAProcessThatIsNotPostgres() {
        XCTAssertNil(ProcessCPU.postmaster(ofBackend: Int(getpid())))
        XCTAssertNil(ProcessCPU.postmaster(ofBackend: Int(Int32.max)))
    }
}
