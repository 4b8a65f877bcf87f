import Foundation

/// CPU seconds used so far by the server under test and by the PostgreSQL cluster it
/// writes to, read from `/proc`, so that a leg of the ingest benchmark can say how many
/// spans each side stores per core. Linux only, and only when the cluster runs on this
/// machine; otherwise the figures are absent.
struct ProcessCPU {
    var server: Double?
    var postgres: Double?

    /// `serverPid`: the service's process; `postmasterPid`: the cluster's postmaster, whose
    /// children are its backends and helper processes.
    static func now(serverPid: Int?, postmasterPid: Int?) -> ProcessCPU {
        let postgres = postmasterPid.map { postmaster in
            // The postmaster's children's times (backends that exited) are in its own
            // figures; live children are added one by one.
            children(of: postmaster).reduce(seconds(of: postmaster) ?? 0) { $0 + (seconds(of: $1) ?? 0) }
        }
        return ProcessCPU(server: serverPid.flatMap(seconds(of:)), postgres: postgres)
    }

    static func - (after: ProcessCPU, before: ProcessCPU) -> ProcessCPU {
        ProcessCPU(
            server: after.server.flatMap { a in before.server.map { a - $0 } },
            postgres: after.postgres.flatMap { a in before.postgres.map { a - $0 } })
    }

    /// The postmaster of a backend of this machine, or nil when `backendPid` is not a local
    /// PostgreSQL process (a remote database).
    static func postmaster(ofBackend backendPid: Int) -> Int? {
        guard let comm = try? String(contentsOfFile: "/proc/\(backendPid)/comm", encoding: .utf8),
            comm.hasPrefix("postgres"), let fields = statFields(of: backendPid)
        else { return nil }
        return Int(fields[1])
    }

    /// The fields of `/proc/<pid>/stat` after the command name, from the state on.
    private static func statFields(of pid: Int) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// User and system time of `pid` and of its children that have exited.
    private static func seconds(of pid: Int) -> Double? {
        guard let fields = statFields(of: pid), fields.count > 14 else { return nil }
        let ticks = (11...14).compactMap { Int(fields[$0]) }.reduce(0, +)
        return Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func children(of parent: Int) -> [Int] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int.init).filter { pid in statFields(of: pid).flatMap { Int($0[1]) } == parent }
    }
}
