import Foundation
import NephoSupport
import Testing

@testable import NephoEngine

/// Detached vagrant runs followed through their log, as a build's monitor will. No
/// Vagrant provider can run here, so `vagrant` is `Fixtures/vagrant/replay-vagrant`, a
/// test double that prints a transcript of that folder (see its README) and exits.
@Suite struct VagrantDetachedRunTests {
    static let replay = VagrantTranscripts.folder.appendingPathComponent("replay-vagrant").path

    static func runner(
        _ home: VagrantTestHome, transcript: String, exit: Int32 = 0, extra: [String: String] = [:],
        secret: String? = nil
    ) throws -> VagrantRunner {
        let environment = try home.mediawiki(formation: "wiki")
        var base = ["PATH": "/usr/bin:/bin", "HOME": home.root.path]
        base["NEPHO_VAGRANT_TRANSCRIPT"] = VagrantTranscripts.folder.appendingPathComponent(transcript).path
        base["NEPHO_VAGRANT_EXIT"] = String(exit)
        base.merge(extra) { $1 }
        return VagrantRunner(
            environment: environment, baseEnvironment: base,
            secrets: secret.map { ["AdminPassword": Secret($0)] } ?? [:], executable: replay)
    }

    static func expectedEvents(_ transcript: String) -> [VagrantEvent] {
        var parser = VagrantOutputParser()
        parser.feed(transcript: VagrantTranscripts.text(transcript))
        return parser.events
    }

    @Test func followsADetachedUpToItsEnd() async throws {
        let home = VagrantTestHome()
        let record = home.root.appendingPathComponent("record.txt").path
        let runner = try Self.runner(
            home, transcript: "up-success.txt", extra: ["NEPHO_VAGRANT_RECORD": record],
            secret: "pass-in-memory-1")
        let run = try runner.startDetached(.up, build: "1")
        let events = LineEvents()
        let result = try await VagrantLogFollower(run: run, pollInterval: 0.05).follow {
            events.append($0, $1)
        }
        #expect(events.events == Self.expectedEvents("up-success.txt"))
        #expect(result.problem == nil && result.summary.succeeded)
        #expect(result.summary.state == .running && result.summary.lastPhase?.number == 6)
        #expect(run.exitStatus() == 0)
        let recorded = try String(contentsOfFile: record, encoding: .utf8)
        #expect(recorded.contains("args: up --machine-readable\n"))
        #expect(recorded.contains("AdminPassword: pass-in-memory-1\n"))  // reached vagrant's environment
        let logged = try String(contentsOfFile: run.logFile, encoding: .utf8)
        #expect(!logged.contains("pass-in-memory-1"))
    }

    /// The follower (a monitor) dies mid-build; a new one resumes after the last line
    /// whose events were stored: every event arrives exactly once, in order.
    @Test func aNewFollowerResumesWithoutLosingOrRepeatingEvents() async throws {
        let home = VagrantTestHome()
        let release = home.root.appendingPathComponent("release").path
        let runner = try Self.runner(
            home, transcript: "up-provisioner-fails.txt", exit: 1,
            extra: ["NEPHO_VAGRANT_HOLD_AFTER": "20", "NEPHO_VAGRANT_RELEASE": release])
        let run = try runner.startDetached(.up, build: "7")
        let first = LineEvents()
        let task = Task {
            try await VagrantLogFollower(run: run, pollInterval: 0.05).follow { first.append($0, $1) }
        }
        for _ in 0..<1200 where first.lastLine < 20 { try await Task.sleep(nanoseconds: 50_000_000) }
        task.cancel()
        _ = await task.result
        #expect(first.lastLine == 20)
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        let second = LineEvents()
        let result = try await VagrantLogFollower(run: run, pollInterval: 0.05).follow(
            resumingAfter: first.lastLine
        ) {
            second.append($0, $1)
        }
        #expect(second.lines.allSatisfy { $0 > 20 })
        #expect(first.events + second.events == Self.expectedEvents("up-provisioner-fails.txt"))
        #expect(result.problem?.kind == .provisionerFailed)
        #expect(result.summary.exitStatus == 1 && result.summary.lastPhase?.number == 3)
    }

    @Test func aRunThatVanishesEndsWithAProblem() async throws {
        let home = VagrantTestHome()
        let release = home.root.appendingPathComponent("never").path
        let runner = try Self.runner(
            home, transcript: "up-success.txt",
            extra: ["NEPHO_VAGRANT_HOLD_AFTER": "3", "NEPHO_VAGRANT_RELEASE": release])
        let run = try runner.startDetached(.up, build: "9")
        _ = kill(-run.pid, SIGKILL)  // as if the machine had restarted
        let result = try await VagrantLogFollower(run: run, pollInterval: 0.05).follow { _, _ in }
        #expect(result.problem?.message == "vagrant stopped without reporting how it ended")
        #expect(run.exitStatus() == nil)
    }

    /// The rows a monitor would store: unique ids that name their line, so a monitor that
    /// resumes after the line of its last stored row (or the one before, the store
    /// ignoring a repeated id) stores each event once.
    @Test func logEntriesForTheBuildLog() async throws {
        let home = VagrantTestHome()
        let runner = try Self.runner(home, transcript: "up-provisioner-fails.txt", exit: 1)
        let run = try runner.startDetached(.up, build: "12")
        let entries = EntryLog()
        let result = try await VagrantLogFollower(run: run, pollInterval: 0.05).follow(build: "12") {
            entries.append($0)
        }
        let all = entries.entries
        #expect(Set(all.map(\.eventID)).count == all.count)
        #expect(all.count == Self.expectedEvents("up-provisioner-fails.txt").count)
        #expect(all.first?.eventID == "vagrant-12-1-0" && all.first?.status == "METADATA")
        #expect(all.map(\.eventID).allSatisfy { VagrantLogEntry.line(ofEventID: $0) != nil })
        #expect(VagrantLogEntry.line(ofEventID: "vagrant-12-31-1") == 31)
        #expect(VagrantLogEntry.line(ofEventID: "arn:aws:cloudformation:1") == nil)
        let phase = try #require(all.first { $0.status == "PHASE 2/6" })
        #expect(
            phase.reason == "Installing Apache, PHP and tools" && phase.resourceType == "Vagrant::Provisioner"
        )
        #expect(all.contains { $0.status == "UP_START" && $0.logicalID == "default" })
        #expect(all.contains { $0.status == "PROVISIONER_FAILURE" })
        let error = try #require(all.last)
        #expect(error.status == "ERROR" && error.logicalID == "vagrant")
        #expect(error.reason?.hasPrefix("Vagrant::Errors::VagrantError: The SSH command responded") == true)
        let (status, message) = VagrantBuildStatus.finished(operation: .create, result: result, secrets: [])
        #expect(status == "create_failed")
        // The build's error carries what the hand-off reported: the exit status and the script's last lines.
        #expect(
            message?.hasPrefix(
                "the provisioner (the scenario's bootstrap script) failed: bootstrap exited with status")
                == true, "\(message ?? "")")
        #expect(VagrantDriver().statusWord(.destroy, .inProgress) == "destroying")
        // A secret the script printed (it must not) is redacted from the stored error.
        let (_, redacted) = VagrantBuildStatus.finished(
            operation: .create, result: result, secrets: [Secret("securing MariaDB")])
        #expect(redacted?.contains("<redacted>") == true && redacted?.contains("securing MariaDB") == false)
    }

    /// An attached run's error carries the provisioner's report with the secrets redacted.
    @Test func attachedRunRedactsTheSecretFromTheProvisionersReport() async throws {
        let home = VagrantTestHome()
        let runner = try Self.runner(
            home, transcript: "up-provisioner-fails.txt", exit: 1, secret: "securing MariaDB")
        let result = try await runner.run(.up) { _ in }
        let problem = try #require(result.problem)
        #expect(problem.message.contains("Installing and <redacted>"), "\(problem.message)")
        #expect(
            !"\(problem.message) \(problem.remedy) \(problem.vagrantMessage ?? "")".contains(
                "securing MariaDB"))
    }

    @Test func attachedRunStreamsTheReplayedEvents() async throws {
        let home = VagrantTestHome()
        let runner = try Self.runner(home, transcript: "destroy.txt")
        let events = EventLog()
        let result = try await runner.run(.destroy) { events.append($0) }
        #expect(events.kinds == Self.expectedEvents("destroy.txt").map(\.kind))
        #expect(result.summary.state == .notCreated && result.problem == nil)
    }
}

/// Log entries gathered by a follower's callback.
final class EntryLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [VagrantLogEntry] = []
    func append(_ entry: VagrantLogEntry) { lock.withLock { items.append(entry) } }
    var entries: [VagrantLogEntry] { lock.withLock { items } }
}

/// Events with their line numbers, gathered by a follower's callback.
final class LineEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, VagrantEvent)] = []
    func append(_ line: Int, _ event: VagrantEvent) { lock.withLock { items.append((line, event)) } }
    var events: [VagrantEvent] { lock.withLock { items.map(\.1) } }
    var lines: [Int] { lock.withLock { items.map(\.0) } }
    var lastLine: Int { lock.withLock { items.last?.0 ?? 0 } }
}
