import Foundation
import NephoEngine
import NephoProtocol
import NephoStore
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor that keeps a monitor per unfinished build.
@Suite struct MonitorSupervisorTests {
    /// `rm -rf` of a home while its daemon supervises: the next check starts nothing and
    /// makes no folder of the removed home again.
    @Test func aRemovedHomeIsNotMadeAgainForItsBuilds() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-supervisor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let paths = NephoPaths(environment: [
            "NEPHO_HOME": home.path, "XDG_RUNTIME_DIR": root.appendingPathComponent("run").path,
        ])
        let store = try StateStore(path: paths.database.path)
        let formation = try store.insertFormation(
            FormationRecord(
                name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        // The test holds the build's lock, as its running monitor would.
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent("builds"), withIntermediateDirectories: true)
        let lock = open(MonitorSupervisor.lockFile(paths, build: build.id), O_RDWR | O_CREAT, 0o600)
        #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        defer { close(lock) }
        let supervisor = MonitorSupervisor(paths: paths)
        supervisor.remember(build: build.id, context: ["AWS_REGION": "us-east-1"])
        #expect(supervisor.ensureMonitors().isEmpty, "a build whose lock is held needs no monitor")

        try FileManager.default.removeItem(at: home)
        #expect(supervisor.ensureMonitors().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home.path), "the removed home was made again")
    }
}

/// Credentials a remote client forwarded serve its own builds, never as the fallback
/// context of others (docs/remote.md).
@Suite struct MonitorSupervisorFallbackTests {
    @Test func forwardedCredentialsNeverBecomeTheFallback() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-fallback-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let supervisor = MonitorSupervisor(
            paths: NephoPaths(
                home: root.appendingPathComponent("home"),
                runtimeDirectory: root.appendingPathComponent("run")))
        let host = ["AWS_PROFILE": "host"]
        supervisor.remember(build: nil, context: host)
        let forwarded = ["AWS_ACCESS_KEY_ID": "AKIDCLIENT", ProviderContext.forwardedMarker: "1"]
        supervisor.remember(build: 7, context: forwarded)
        supervisor.remember(build: nil, context: forwarded)
        let known = supervisor.knownContexts()
        #expect(known.filter { $0 == forwarded }.count == 1, "only build 7's own")
        #expect(known.contains(host), "the host's context stays the fallback")
    }
}

/// A monitor opens its build's lock file without following a link: the file is
/// truncated once locked, so a link planted there would cost its target its contents.
@Suite struct MonitorLockLinkTests {
    @Test func aLinkPlantedAsTheLockIsRefusedAndItsTargetKept() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-lock-\(UUID().uuidString)")
        let paths = NephoPaths(
            home: root.appendingPathComponent("home"), runtimeDirectory: root.appendingPathComponent("run"))
        let store = try StateStore(path: paths.database.path)
        let formation = try store.insertFormation(
            .init(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            .init(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        let victim = root.appendingPathComponent("victim.txt")
        try Data("precious".utf8).write(to: victim)
        let lock = MonitorSupervisor.lockFile(paths, build: build.id)
        try FileManager.default.createDirectory(
            atPath: (lock as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: victim.path)
        let error = await #expect(throws: UnsafeHomeError.self) {
            _ = try await BuildMonitor(paths: paths, buildID: build.id, environment: [:]).run()
        }
        #expect(error?.description.contains("\(lock) is a symbolic link") == true)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
    }
}
