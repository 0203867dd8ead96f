import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `nepho` binary in a test home.
enum NephoProgram {
    static func run(
        _ arguments: [String], home: TestHome, extra: [String: String] = [:], timeout: Double = 120
    ) async throws -> ProcessResult {
        try await ProcessRunner.run(
            Binaries.nepho, arguments, environment: home.environment.merging(extra) { $1 }, timeout: timeout)
    }

    /// The pid of the daemon serving `home`, or nil when none answers.
    static func daemonPID(_ home: TestHome) async throws -> Int32? {
        let result = try await run(["daemon:status", "-o", "json"], home: home)
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
        else { return nil }
        return (object["pid"] as? Int).map(Int32.init)
    }

    /// Stops the home's daemon, if any (SIGKILL when it will not stop).
    static func stopDaemon(_ home: TestHome) async {
        let pid = try? await daemonPID(home)
        _ = try? await run(["daemon:stop"], home: home, timeout: 30)
        if let pid, processIsAlive(pid) { kill(pid, SIGKILL) }
    }
}
