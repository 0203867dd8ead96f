import Foundation
import NephoProtocol
import NephoStore
import NephoSupport

/// The Vagrant driver's `follow`: the body of `nephod monitor BUILD` for a vagrant
/// formation (`BuildMonitor.run` holds the build's lock). vagrant itself was started
/// detached by the daemon (`VagrantDriver.launch`), which saved the run in
/// `nepho/builds/BUILD.run.json` of the formation's folder; the monitor follows its log
/// with `VagrantLogFollower`, resuming after the line of the build's last stored event
/// (event ids are `vagrant-BUILD-LINE-N`, so re-reading a line stores nothing twice),
/// stores each event redacted, keeps the formation's outputs (`MachineState`,
/// `SSHAddress`, `SSHUser`, `URL`, `Folder`) and finishes the build with vagrant's result.
struct VagrantMonitor: Sendable {
    var follower: BuildFollower
    var paths: NephoPaths { follower.paths }
    var buildID: Int64 { follower.buildID }
    /// The provider context; secrets of the build under `secretPrefix` (memory only).
    var environment: [String: String] { follower.environment }

    init(_ follower: BuildFollower) { self.follower = follower }

    /// Context keys holding the build's secret values, for redaction.
    static let secretPrefix = "NEPHO_VAGRANT_SECRET:"
    /// How long a build may wait for its run to be saved before it counts as never started.
    static let startGrace = 60.0

    /// What `BUILD.run.json` holds: the run, and the boot it was started in (a pid
    /// from an earlier boot means nothing: the run is gone).
    struct RunFile: Codable {
        var run: VagrantDetachedRun
        var bootID: String?
    }

    static func runFile(folder: URL, build: Int64) -> URL {
        folder.appendingPathComponent("nepho/builds/\(build).run.json")
    }

    static func save(_ run: VagrantDetachedRun, folder: URL, build: Int64) throws {
        let data = try JSONEncoder().encode(RunFile(run: run, bootID: bootID()))
        try AtomicFile.write(data, to: runFile(folder: folder, build: build), mode: 0o600)
    }

    /// The run of `build`, or nil when none was saved. A run of an earlier boot comes back
    /// with a pid no process has, so that following it ends at once ("stopped without reporting").
    static func load(folder: URL, build: Int64) -> VagrantDetachedRun? {
        guard let data = FileManager.default.contents(atPath: runFile(folder: folder, build: build).path),
            let file = try? JSONDecoder().decode(RunFile.self, from: data)
        else { return nil }
        var run = file.run
        if let boot = file.bootID, let now = bootID(), boot != now { run.pid = Int32.max }
        return run
    }

    /// The values of `names` in the environment process `pid` started with, read from
    /// `/proc/PID/environ` (memory only; nothing when the process is gone).
    static func secrets(named names: [String], inEnvironmentOf pid: Int32) -> [Secret] {
        // Read to the end: /proc files report a size of 0.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/environ") else { return [] }
        defer { try? handle.close() }
        let data = handle.readDataToEndOfFile()
        let wanted = Set(names)
        return data.split(separator: 0).compactMap { entry in
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "="), wanted.contains(String(text[..<equals])) else {
                return nil
            }
            let value = String(text[text.index(after: equals)...])
            return value.isEmpty ? nil : Secret(value)
        }
    }

    static func bootID() -> String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Follows the build to its end; returns the monitor's exit status.
    func run() async throws -> Int32 {
        let store = follower.store
        let build = follower.build
        let formation = follower.formation
        let folder = VagrantEnvironment.folder(paths: paths, formation: formation.name)
        if build.operation == .destroy && !FileManager.default.fileExists(atPath: folder.path) {
            // Only a destroy that succeeded removes the folder: finish what a stopped monitor began.
            try follower.finish(status: follower.driver.statusWord(.destroy, .complete))
            return 0
        }
        let started = Timestamp.date(build.startedAt) ?? Date()
        var found: VagrantDetachedRun?
        while found == nil {
            guard try follower.stillWanted() else { return 0 }
            found = Self.load(folder: folder, build: buildID)
            if found == nil {
                guard Date().timeIntervalSince(started) < Self.startGrace else {
                    try follower.finish(
                        status: follower.driver.statusWord(build.operation, .failed),
                        error:
                            "vagrant was never started for this build (nepho stopped while starting it). Run the command again."
                    )
                    return 0
                }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
        }
        guard let run = found else { return 0 }
        // First, while vagrant still runs: what to redact (see `secrets(folder:run:)`).
        let secrets = secrets(folder: folder, run: run)
        follower.log("following vagrant (pid \(run.pid)) for build \(buildID)")
        let outcome = try await withThrowingTaskGroup(of: Followed?.self) { group in
            group.addTask {
                try await follow(
                    run, folder: folder, store: store, formation: formation, status: build.status,
                    secrets: secrets)
            }
            group.addTask {
                // Superseded (a destroy), or the home removed: stop following.
                while try follower.stillWanted() { try await Task.sleep(nanoseconds: 500_000_000) }
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let outcome, try follower.stillWanted() else { return 0 }
        var outputs = outcome.outputs
        if let state = outcome.result.summary.state { outputs["MachineState"] = state.rawValue }
        let (status, error) = VagrantBuildStatus.finished(
            operation: build.operation, result: outcome.result, secrets: secrets)
        if build.operation == .destroy && follower.driver.succeeded(.destroy, status) {
            // The machine is gone; its events stay in the database. The folder goes first,
            // so that whoever sees the build finished finds it gone (a monitor stopped in
            // between finishes the build when it finds no folder, above).
            try? FileManager.default.removeItem(at: folder)
        }
        try follower.finish(status: status, error: error, outputs: outputs)
        return 0
    }

    /// What following a run gave: vagrant's result and the outputs seen on the way.
    struct Followed: Sendable {
        var result: VagrantRunResult
        var outputs: [String: String]
    }

    /// The secret values to redact: from the context the daemon handed this monitor, or,
    /// for a build adopted after a daemon restart (that context is gone), from the
    /// environment of vagrant's wrapper, which holds them while vagrant runs (same user).
    private func secrets(folder: URL, run: VagrantDetachedRun) -> [Secret] {
        let given = environment.filter { $0.key.hasPrefix(Self.secretPrefix) }.map { Secret($0.value) }
        guard given.isEmpty, let names = try? VagrantEnvironment.open(folder).record.secretParameters,
            !names.isEmpty
        else { return given }
        return Self.secrets(named: names, inEnvironmentOf: run.pid)
    }

    private func follow(
        _ run: VagrantDetachedRun, folder: URL, store: StateStore, formation: FormationRecord, status: String,
        secrets: [Secret]
    ) async throws -> Followed {
        let last = try store.events(
            buildID: buildID, after: max(0, try store.lastSequence(buildID: buildID) - 1)
        )
        .last
        // The line of the last stored event is read again: its later events may not be stored yet.
        let resumeLine = max(
            0, (last.flatMap { VagrantLogEntry.line(ofEventID: $0.providerEventID) } ?? 1) - 1)
        var outputs = formation.outputs
        var storeError: Error?
        let follower = VagrantLogFollower(run: run, folder: folder.path)
        let result = try await follower.follow(build: "\(buildID)", resumingAfter: resumeLine) { entry in
            guard storeError == nil else { return }
            let entry = entry.redacting(secrets)
            do {
                try store.appendEvent(
                    EventRecord(
                        buildID: buildID, providerEventID: entry.eventID,
                        timestamp: Timestamp.string(
                            Date(timeIntervalSince1970: TimeInterval(entry.timestamp))),
                        logicalID: entry.logicalID, resourceType: entry.resourceType, status: entry.status,
                        reason: entry.reason))
                var seen = outputs
                if entry.status.hasPrefix("STATE_") {
                    seen["MachineState"] = entry.status.dropFirst("STATE_".count).lowercased()
                }
                for (prefix, key) in [("SSH address: ", "SSHAddress"), ("SSH username: ", "SSHUser")] {
                    if let reason = entry.reason, reason.hasPrefix(prefix) {
                        seen[key] = String(reason.dropFirst(prefix.count))
                    }
                }
                if seen != outputs {
                    outputs = seen
                    try store.updateFormation(
                        id: formation.id, status: status, outputs: outputs)
                }
            } catch {
                storeError = error
            }
        }
        if let storeError { throw storeError }
        return Followed(result: result, outputs: outputs)
    }
}
