import Foundation
import NephoProtocol
import NephoStore
import NephoSupport

/// `nephod monitor BUILD`: watches one build until it reaches a terminal state. It
/// holds the build's lock file, reads its provider context (credentials included) as
/// JSON on standard input, and hands the build to its provider's driver
/// (`FormationDriver.follow`), which stores every event once, so that a monitor killed
/// at any point resumes where the last one stopped.
public struct BuildMonitor {
    public var paths: NephoPaths
    public var buildID: Int64
    public var environment: [String: String]
    public var providers: ProviderRegistry

    public init(
        paths: NephoPaths, buildID: Int64, environment: [String: String],
        providers: ProviderRegistry = .standard
    ) {
        self.paths = paths
        self.buildID = buildID
        self.environment = environment
        self.providers = providers
    }

    /// The program: returns its exit status (0 also when another monitor holds the lock).
    public static func main(buildArgument: String?, providers: ProviderRegistry = .standard) async -> Int32 {
        guard let text = buildArgument, let build = Int64(text) else {
            FileHandle.standardError.write(
                Data("usage: nephod monitor BUILD_ID (context as JSON on stdin)\n".utf8))
            return 2
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let context = (try? JSONDecoder().decode([String: String].self, from: input)) ?? [:]
        return await main(build: build, context: context, providers: providers)
    }

    /// Watches build `build` with the provider context `context` (what `nephod monitor`
    /// reads on its standard input, or what `MonitorHost` hands a forked monitor).
    public static func main(build: Int64, context: [String: String], providers: ProviderRegistry = .standard)
        async -> Int32
    {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        for (key, value) in context { environment[key] = value }
        let paths = NephoPaths(environment: ProcessInfo.processInfo.environment)
        let monitor = BuildMonitor(
            paths: paths, buildID: build, environment: environment, providers: providers)
        do {
            return try await monitor.run()
        } catch {
            log("monitor of build \(build) failed: \(SystemError.reason(error))")
            return 1
        }
    }

    static func log(_ line: String) {
        FileHandle.standardError.write(Data("\(Timestamp.now()) \(line)\n".utf8))
    }

    /// Watches the build to its end.
    public func run() async throws -> Int32 {
        let lockPath = MonitorSupervisor.lockFile(paths, build: buildID)
        // Within an existing home only: one removed meanwhile is not made again.
        guard FileManager.default.fileExists(atPath: paths.database.path) else {
            Self.log("\(paths.database.path) is gone; monitor of build \(buildID) exits")
            return 0
        }
        try? FileManager.default.createDirectory(
            atPath: (lockPath as NSString).deletingLastPathComponent, withIntermediateDirectories: false)
        // Never through a link: the lock file is truncated below.
        let fd = try PrivateHome.openPrivate(lockPath, flags: O_RDWR)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Self.log("build \(buildID) is watched by another monitor")
            return 0
        }
        defer { close(fd) }
        // The lock file names its holder, for people and tests (`cat builds/ID.lock`).
        let pid = Data("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        let store = try StateStore(path: paths.database.path)
        guard var build = try store.build(id: buildID), build.finishedAt == nil else { return 0 }
        // Recorded before its provider call: while the process making the call lives, the
        // call is under way (a foreground command's, seen by a daemon); wait for it. Not
        // past 15 minutes from the build's start: no call takes that long (throttling is
        // outlasted for 90 s), and the pid may since be another process's.
        let started = Timestamp.date(build.startedAt) ?? Date()
        while build.launcherRunning, build.launcherPID != getpid(), Date().timeIntervalSince(started) < 900 {
            try await Task.sleep(nanoseconds: 500_000_000)
            guard let again = try store.build(id: buildID), again.finishedAt == nil else { return 0 }
            build = again
        }
        guard let formation = try store.formation(id: build.formationID) else { return 0 }
        let driver = try providers.driver(forStored: formation.provider)
        Self.log("monitoring build \(buildID) (\(driver.provider))")
        return try await driver.follow(
            BuildFollower(
                paths: paths, build: build, formation: formation, store: store, environment: environment,
                driver: driver))
    }
}

/// What a driver's `follow` gets: the build, its formation, the store, the monitor's
/// context, and the steps every provider's monitor shares.
public struct BuildFollower: Sendable {
    public let paths: NephoPaths
    public let build: BuildRecord
    public let formation: FormationRecord
    public let store: StateStore
    /// The provider context the build runs with (credentials included; memory only).
    public let environment: [String: String]
    /// The formation's provider, whose words the build's statuses are.
    public let driver: any FormationDriver

    public var buildID: Int64 { build.id }

    /// One line in the monitor's log.
    public func log(_ line: String) { BuildMonitor.log(line) }

    /// True when the build was recorded before its provider call and the process making
    /// the call died during it: the driver finds out whether the call was taken.
    public var launcherGone: Bool { build.launcherPID != nil }

    /// False once the home is gone (a throw-away test or benchmark home).
    public var homeExists: Bool { FileManager.default.fileExists(atPath: paths.database.path) }

    /// False once the build is finished by someone else (a destroy superseded it) or the home is gone.
    public func stillWanted() throws -> Bool {
        guard homeExists else { return false }
        return try store.build(id: build.id)?.finishedAt == nil
    }

    /// Records the build's end: its status, the formation's status and outputs (when
    /// given), and the error — the one given, else for a build that did not end as its
    /// operation wanted, the first failed event's reason.
    public func finish(status: String, error: String? = nil, outputs: [String: String]? = nil) throws {
        var error = error
        if error == nil && !driver.succeeded(build.operation, status) {
            let events = try store.events(buildID: build.id)
            let failed = events.first { ($0.status ?? "").hasSuffix("_FAILED") && $0.reason != nil }
            error =
                failed.map { "\($0.logicalID ?? formation.name): \($0.reason ?? "")" }
                ?? "the build ended in \(status)"
        }
        // Not over a build a destroy has superseded meanwhile (nor over its formation).
        guard
            try store.updateBuild(
                id: build.id, formationID: formation.id, status: status, finished: true, error: error,
                outputs: outputs)
        else {
            log("build \(build.id) was ended by someone else; \(status) not recorded")
            return
        }
        log("build \(build.id) ended: \(status)\(error.map { " (\($0))" } ?? "")")
    }
}
