import Foundation
import NephoEngine
import NephoSupport
import NephoTestBench
import Testing

/// Vagrant formations end to end: the real `nepho`, the `nephod` it starts and the
/// `nephod monitor` processes it spawns, on the example cloudlet `mediawiki/vagrant`.
///
/// No Vagrant provider (VirtualBox, libvirt) can run on the machines these tests run on,
/// so no virtual machine is ever started. Where a machine would be, `vagrant` is
/// `Fixtures/vagrant/replay-vagrant` — a test double that prints a recorded transcript
/// (Fixtures/vagrant/README.md says how each was made), chosen through `NEPHO_VAGRANT`
/// (a documented test hook) — and the build is driven from that transcript through the
/// real daemon and monitor. The last test runs the real vagrant, which fails here for
/// want of a provider, and checks that nepho says what to do.
@Suite(.serialized)
struct VagrantFormationEndToEndTests {
    static let fixtures = NephoBinary.repository.appendingPathComponent("Fixtures/vagrant")

    /// A private home holding the mediawiki cloudlet.
    func setUp() throws -> NephoBinary {
        let nepho = NephoBinary()
        nepho.environment["NEPHOD_PATH"] =
            (NephoBinary.executable as NSString).deletingLastPathComponent + "/nephod"
        nepho.environment["VAGRANT_CHECKPOINT_DISABLE"] = "1"
        nepho.environment["VAGRANT_HOME"] =
            nepho.home.deletingLastPathComponent()
            .appendingPathComponent("vagrant.d").path
        try FileManager.default.copyItem(
            at: NephoBinary.repository.appendingPathComponent("cloudlets/mediawiki"),
            to: nepho.home.appendingPathComponent("cloudlets/mediawiki"))
        return nepho
    }

    func stop(_ nepho: NephoBinary) async {
        _ = try? await nepho.run(["daemon:stop"])
    }

    /// The test's folder beside NEPHO_HOME.
    func scratch(_ nepho: NephoBinary, _ name: String) -> URL {
        nepho.home.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Writes a stand-in vagrant that replays `transcript` (replay-vagrant's variables
    /// set), and returns its path for NEPHO_VAGRANT.
    func standIn(
        _ nepho: NephoBinary, _ transcript: String, exit: Int = 0, holdAfter: Int? = nil, release: URL? = nil,
        record: URL? = nil
    ) async throws -> String {
        var lines = [
            "#!/bin/sh",
            "# Test double for vagrant: replays the transcript \(transcript) (see Fixtures/vagrant/replay-vagrant).",
            "export NEPHO_VAGRANT_TRANSCRIPT='\(transcript.hasPrefix("/") ? transcript : Self.fixtures.appendingPathComponent(transcript).path)'",
            "export NEPHO_VAGRANT_EXIT=\(exit)",
        ]
        if let holdAfter, let release {
            lines += [
                "export NEPHO_VAGRANT_HOLD_AFTER=\(holdAfter)",
                "export NEPHO_VAGRANT_RELEASE='\(release.path)'",
            ]
        }
        if let record { lines.append("export NEPHO_VAGRANT_RECORD='\(record.path)'") }
        lines.append("exec '\(Self.fixtures.appendingPathComponent("replay-vagrant").path)' \"$@\"")
        let script = scratch(
            nepho, "vagrant-\((transcript as NSString).lastPathComponent)-\(UUID().uuidString.prefix(6))")
        try await ExecutableFile.write(lines.joined(separator: "\n") + "\n", to: script)
        return script.path
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func lastBuild(_ nepho: NephoBinary, _ name: String) async throws -> Int {
        let describe = try await nepho.run(["formation:describe", name, "-o", "json"])
        let builds = try #require(
            json(describe.output)["builds"] as? [[String: Any]], "\(describe.errorOutput)")
        return try #require(builds.last?["id"] as? Int)
    }

    /// The event ids nepho stored for every build of `name`, in order.
    func storedEventIDs(_ nepho: NephoBinary, _ name: String) async throws -> [String] {
        let logs = try await nepho.run(["formation:logs", name, "-o", "json"])
        let builds = json(logs.output)["builds"] as? [[String: Any]] ?? []
        return builds.flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["eventID"] as? String
            }
        }
    }

    /// The event ids of `transcript` as build `build`'s log, each once, in order.
    func expectedEventIDs(_ transcript: String, build: Int) throws -> [String] {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent(transcript), encoding: .utf8)
        var parser = VagrantOutputParser()
        var ids: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .enumerated()
        {
            for (number, event) in parser.feed(String(line)).enumerated() {
                ids.append(
                    VagrantLogEntry(build: "\(build)", line: index + 1, index: number, event: event).eventID)
            }
        }
        return ids
    }

    /// Waits until `count` events of `name` are stored.
    func waitForEvents(_ nepho: NephoBinary, _ name: String, atLeast count: Int) async throws {
        for _ in 0..<600 {
            if try await storedEventIDs(nepho, name).count >= count { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw CancellationError()
    }

    /// Every file under `folder` that contains `text`.
    func files(under folder: URL, containing text: String) -> [String] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else {
            return []
        }
        var found: [String] = []
        for case let url as URL in walker {
            if let data = FileManager.default.contents(atPath: url.path),
                data.range(of: Data(text.utf8)) != nil
            {
                found.append(url.path)
            }
        }
        return found
    }

    @Test func heldBuildSurvivesAKilledMonitorThenDescribeOpenSSHAndDestroy() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let release = scratch(nepho, "release")
        let record = scratch(nepho, "record.txt")
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(
            nepho, "up-success.txt", holdAfter: 20, release: release, record: record)
        let secret = "Wiki-s3cret-\(UUID().uuidString.prefix(8))"
        let create = try await nepho.run([
            "create", "mediawiki/vagrant", "--name", "wiki", "-p", "AdminPassword=\(secret)", "--detach",
        ])
        #expect(create.succeeded, "\(create.errorOutput)")
        #expect(create.output.contains("formation:watch wiki"))
        let build = try await lastBuild(nepho, "wiki")
        let folder = nepho.home.appendingPathComponent("formations/wiki")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("Vagrantfile").path))

        // Mid-build (vagrant is held after 20 lines): kill the monitor; the daemon starts another.
        let lock = nepho.home.appendingPathComponent("builds/\(build).lock")
        let first = try await waitForMonitor(lock, not: nil)
        try await waitForEvents(nepho, "wiki", atLeast: 10)
        kill(first, SIGKILL)
        let second = try await waitForMonitor(lock, not: first)
        #expect(second != first)
        let list = try await nepho.run(["formation:list"])
        #expect(list.output.contains("wiki") && list.output.contains("creating"), "\(list.output)")
        // No AWS account here, and only vagrant formations: no warning about listing stacks.
        #expect(!list.errorOutput.contains("not listed"), "\(list.errorOutput)")
        // Held mid-build: progress from vagrant's steps and the provisioner's six phases.
        let listed = json(try await nepho.run(["formation:list", "-o", "json"]).output)
        let wiki = (listed["formations"] as? [[String: Any]])?.first { $0["name"] as? String == "wiki" }
        let inFlight = try #require(wiki?["progress"] as? [String: Any], "\(listed)")
        let total = inFlight["total"] as? Int ?? 0
        #expect(total >= 6 && (inFlight["done"] as? Int ?? 99) <= total, "\(inFlight)")

        let watching = Task { try await nepho.run(["formation:watch", "wiki", "-o", "json"]) }
        _ = FileManager.default.createFile(atPath: release.path, contents: Data())
        let watched = try await watching.value
        #expect(watched.status == 0, "\(watched.errorOutput)")
        let lines = watched.output.split(separator: "\n").map { json(String($0)) }
        #expect(lines.last?["type"] as? String == "end")
        let statuses = lines.compactMap { $0["status"] as? String }
        for phase in 1...6 { #expect(statuses.contains("PHASE \(phase)/6"), "phase \(phase) missing") }
        #expect(statuses.contains("PROVISIONER_SUCCESS"))
        // Progress lines (while the build ran, if the watcher saw it running) never above their total.
        let progress = lines.filter { $0["type"] as? String == "progress" }
        #expect(progress.allSatisfy { ($0["done"] as? Int ?? 99) <= ($0["total"] as? Int ?? 0) })

        // Every event of the transcript exactly once, in order, across the two monitors.
        let stored = try await storedEventIDs(nepho, "wiki")
        #expect(stored == (try expectedEventIDs("up-success.txt", build: build)))

        let describe = try await nepho.run(["formation:describe", "wiki"])
        #expect(describe.output.contains("running"), "\(describe.output)")
        #expect(describe.output.contains("Provider: vagrant"))
        #expect(describe.output.contains("http://127.0.0.1:8080/wiki/Main_Page"))
        #expect(describe.output.contains("MachineState") && describe.output.contains("running"))
        #expect(describe.output.contains("AdminPassword") && describe.output.contains("********"))
        let open = try await nepho.run(["open", "wiki", "--print-only"])
        #expect(open.output == "http://127.0.0.1:8080/wiki/Main_Page\n", "\(open.output)\(open.errorOutput)")
        var ssh = nepho.environment
        ssh["NEPHO_VAGRANT"] = try await standIn(nepho, "ssh-config.txt")
        let address = try await ProcessRunner.run(
            NephoBinary.executable, ["ssh", "wiki", "--print-only"], environment: ssh, timeout: 60)
        #expect(address.output == "vagrant@127.0.0.1 -p 2222\n", "\(address.output)\(address.errorOutput)")
        // Without --print-only, nepho hands over to `vagrant ssh -- CMD` (the stand-in records its arguments).
        let sshRecord = scratch(nepho, "ssh-record.txt")
        ssh["NEPHO_VAGRANT"] = try await standIn(nepho, "ssh-config.txt", record: sshRecord)
        let exec = try await ProcessRunner.run(
            NephoBinary.executable, ["ssh", "wiki", "--", "uptime"], environment: ssh, timeout: 60)
        #expect(exec.status == 0, "\(exec.errorOutput)")
        #expect(try String(contentsOf: sshRecord, encoding: .utf8).contains("args: ssh -- uptime"))
        let update = try await nepho.run(["formation:update", "wiki", "-p", "HTTPPort=8081", "--yes"])
        #expect(update.status != 0 && update.errorOutput.contains("destroy it and create it again"))

        // The secret reached vagrant's environment, and nothing nepho wrote.
        let recorded = try String(contentsOf: record, encoding: .utf8)
        #expect(
            recorded.contains("args: up --machine-readable") && recorded.contains("AdminPassword: \(secret)"))
        #expect(files(under: nepho.home, containing: secret).isEmpty, "the secret was written")
        #expect(!describe.output.contains(secret))

        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, "destroy.txt")
        let destroy = try await nepho.run(["destroy", "wiki", "--yes"])
        #expect(destroy.status == 0, "\(destroy.errorOutput)")
        #expect(destroy.output.contains("not_created"), "\(destroy.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path), "the folder is removed after a destroy")
        #expect(files(under: nepho.home, containing: secret).isEmpty, "the secret was written")
        // The name is free again.
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, "up-success.txt")
        let again = try await nepho.run(["create", "mediawiki/vagrant", "--name", "wiki"])
        #expect(again.status == 0, "\(again.errorOutput)")
    }

    @Test func failuresExitNonZeroWithWhatToDo() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, "up-provisioner-fails.txt", exit: 1)
        let failing = try await nepho.run(["create", "mediawiki/vagrant", "--name", "broken"])
        #expect(failing.status == 1, "\(failing.errorOutput)")
        #expect(failing.output.contains("PROVISIONER_FAILURE"), "\(failing.output)")
        #expect(failing.errorOutput.contains("fix the script or the parameters"), "\(failing.errorOutput)")
        let watch = try await nepho.run(["formation:watch", "broken"])
        #expect(watch.status == 1 && watch.errorOutput.contains("create_failed"), "\(watch.errorOutput)")

        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, "up-no-provider.txt", exit: 1)
        let noProvider = try await nepho.run(["create", "mediawiki/vagrant", "--name", "noprovider"])
        #expect(noProvider.status == 1)
        #expect(noProvider.errorOutput.contains("Install VirtualBox"), "\(noProvider.errorOutput)")

        let taken = try await nepho.run(["create", "mediawiki/vagrant", "--name", "broken"])
        #expect(taken.status == 5 && taken.errorOutput.contains("already exists"), "\(taken.errorOutput)")
    }

    @Test func cancelInterruptsACreateAndDestroysTheMachine() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        _ = try await createHeld(nepho, "held", holdAfter: 10)
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, "destroy.txt")
        let cancel = try await nepho.run(["formation:cancel", "held", "--yes"])
        #expect(cancel.status == 0, "\(cancel.errorOutput)")
        let watch = try await nepho.run(["formation:watch", "held"])
        #expect(
            watch.status == 0 && watch.output.contains("not_created"),
            "\(watch.output)\(watch.errorOutput)")
        let describe = try await nepho.run(["formation:describe", "held", "-o", "json"])
        let builds = json(describe.output)["builds"] as? [[String: Any]] ?? []
        #expect(builds.first?["error"] as? String == "superseded by destroy", "\(describe.output)")
        #expect(builds.last?["status"] as? String == "not_created")
    }

    @Test func noVagrantIsAClearErrorAtCreate() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let empty = scratch(nepho, "empty-bin")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        nepho.environment["PATH"] = empty.path
        let create = try await nepho.run(["create", "mediawiki/vagrant", "--name", "nothing", "--detach"])
        #expect(create.status != 0)
        #expect(create.errorOutput.contains("vagrant is not installed"), "\(create.errorOutput)")
        #expect(create.errorOutput.contains("apt-get install --no-install-recommends vagrant"))
        #expect(
            !FileManager.default.fileExists(
                atPath: nepho.home.appendingPathComponent("formations/nothing").path))
    }

    /// The build's detached run, as the daemon saved it (pid, log and status files).
    func savedRun(_ nepho: NephoBinary, _ name: String, build: Int) async throws -> [String: Any] {
        let file = nepho.home.appendingPathComponent("formations/\(name)/nepho/builds/\(build).run.json")
        for _ in 0..<600 {
            if let data = FileManager.default.contents(atPath: file.path),
                let run = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["run"]
                    as? [String: Any]
            {
                return run
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw CancellationError()
    }

    /// kill -9 of the daemon and of the build's monitor, as a crash would; the monitor's pid.
    func killDaemonAndMonitor(_ nepho: NephoBinary, _ lock: URL) async throws -> pid_t {
        let monitor = try await waitForMonitor(lock, not: nil)
        let status = json(try await nepho.run(["daemon:status", "-o", "json"]).output)
        kill(pid_t(try #require(status["pid"] as? Int)), SIGKILL)
        kill(monitor, SIGKILL)
        return monitor
    }

    /// `create mediawiki/vagrant --name NAME --detach` (plus `extra`), vagrant held after
    /// `holdAfter` lines of `transcript` until the returned file exists; and the build id.
    func createHeld(
        _ nepho: NephoBinary, _ name: String, transcript: String = "up-success.txt", holdAfter: Int,
        extra: [String] = []
    ) async throws -> (build: Int, release: URL) {
        let release = scratch(nepho, "release-\(name)")
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(
            nepho, transcript, holdAfter: holdAfter, release: release)
        let create = try await nepho.run(
            ["create", "mediawiki/vagrant", "--name", name, "--detach"] + extra)
        #expect(create.succeeded, "\(create.errorOutput)")
        return (try await lastBuild(nepho, name), release)
    }

    /// up-success.txt with a provisioner line that prints `secret` (which it must not).
    func leakyTranscript(_ nepho: NephoBinary, printing secret: String, _ name: String) throws -> URL {
        let original = try String(
            contentsOf: Self.fixtures.appendingPathComponent("up-success.txt"), encoding: .utf8)
        let leaky = original.replacingOccurrences(
            of: "default: Last metadata expiration check",
            with: "default: the password is \(secret); last metadata")
        #expect(leaky != original)
        let transcript = scratch(nepho, name)
        try leaky.write(to: transcript, atomically: true, encoding: .utf8)
        return transcript
    }

    @Test func daemonAndMonitorKilledTheNextCommandResumesWithEveryEventOnce() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let (build, release) = try await createHeld(nepho, "restart", holdAfter: 25)
        let lock = nepho.home.appendingPathComponent("builds/\(build).lock")
        _ = try await waitForMonitor(lock, not: nil)
        try await waitForEvents(nepho, "restart", atLeast: 10)
        // No daemon and no monitor (as after a crash); vagrant goes on in its own session.
        _ = try await killDaemonAndMonitor(nepho, lock)
        _ = FileManager.default.createFile(atPath: release.path, contents: Data())
        let watch = try await nepho.run(["formation:watch", "restart"])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        #expect(
            try await storedEventIDs(nepho, "restart")
                == (try expectedEventIDs("up-success.txt", build: build)))
    }

    /// A monitor adopted after the daemon and the first monitor died has no context with
    /// the secrets any more: it reads them from vagrant's wrapper and still redacts.
    @Test func aMonitorAdoptedAfterARestartStillRedactsASecretPrinted() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let secret = "Adopted-s3cret-\(UUID().uuidString.prefix(8))"
        let transcript = try leakyTranscript(nepho, printing: secret, "leaky-adopted.txt")
        let (build, release) = try await createHeld(
            nepho, "adopted", transcript: transcript.path, holdAfter: 5,
            extra: ["-p", "AdminPassword=\(secret)"])
        let lock = nepho.home.appendingPathComponent("builds/\(build).lock")
        let monitor = try await killDaemonAndMonitor(nepho, lock)
        // The next command starts a daemon, which adopts the build with its own context;
        // vagrant is released once the new monitor follows it (as it would be still running).
        #expect(try await nepho.run(["formation:list"]).succeeded)
        _ = try await waitForMonitor(lock, not: monitor)
        let log = nepho.home.appendingPathComponent("log/monitor-\(build).log")
        for _ in 0..<600 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.components(separatedBy: "following vagrant").count > 2 { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        _ = FileManager.default.createFile(atPath: release.path, contents: Data())
        let watch = try await nepho.run(["formation:watch", "adopted"])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        let logs = try await nepho.run(["formation:logs", "adopted"])
        #expect(logs.output.contains("the password is <redacted>"), "\(logs.output)")
        #expect(!logs.output.contains(secret))
    }

    @Test func vagrantGoneWithoutAStatusFailsTheBuildWithTheExplanation() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let (build, _) = try await createHeld(nepho, "vanished", holdAfter: 5)
        // As when the computer restarts: vagrant and its wrapper are gone, no status written.
        let run = try await savedRun(nepho, "vanished", build: build)
        kill(-pid_t(try #require(run["pid"] as? Int)), SIGKILL)
        let watch = try await nepho.run(["formation:watch", "vanished"])
        #expect(watch.status == 1)
        #expect(
            watch.errorOutput.contains("vagrant stopped without reporting how it ended"),
            "\(watch.errorOutput)")
    }

    @Test func providerFlagRunsAnAWSScenarioOnVagrantAndASecretPrintedIsRedacted() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, "up-success.txt")
        let flagged = try await nepho.run([
            "create", "mediawiki", "--provider", "vagrant", "--name", "flagged", "-p", "KeyName=ops", "-p",
            "SSHLocation=192.0.2.1/32",
        ])
        #expect(flagged.status == 0, "\(flagged.errorOutput)")
        let describe = try await nepho.run(["formation:describe", "flagged"])
        #expect(
            describe.output.contains("Provider: vagrant") && describe.output.contains("Scenario: default"))
        let vagrantfile = try String(
            contentsOf: nepho.home.appendingPathComponent("formations/flagged/Vagrantfile"), encoding: .utf8)
        #expect(
            vagrantfile.contains("nepho mediawiki/vagrant"), "the cloudlet's patterns/vagrant/Vagrantfile")
        // On a terminal (`script` gives one), the live view's progress is vagrant's steps
        // (here its `up`) and the provisioner's six phases, full at the end.
        let live = try await ProcessRunner.run(
            "script", ["-qec", "\(NephoBinary.executable) formation:watch flagged", "/dev/null"],
            environment: nepho.environment.merging(["NO_COLOR": "1"]) { $1 }, timeout: 60)
        #expect(live.output.contains("provisioner: 6/6 Starting the web server"), "\(live.output)")
        #expect(live.output.contains("[" + String(repeating: "#", count: 30) + "] 7/7"), "\(live.output)")
        let wrong = try await nepho.run(["create", "mediawiki", "--provider", "gcp"])
        #expect(
            wrong.status != 0
                && wrong.errorOutput.contains("unknown provider \"gcp\" (nepho knows: aws, vagrant)"),
            "\(wrong.errorOutput)")

        // A provisioner that prints the secret (it must not): the stored events hold <redacted>.
        let secret = "Printed-s3cret-\(UUID().uuidString.prefix(8))"
        let transcript = try leakyTranscript(nepho, printing: secret, "leaky.txt")
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, transcript.path)
        let leaking = try await nepho.run([
            "create", "mediawiki/vagrant", "--name", "leaky", "-p", "AdminPassword=\(secret)",
        ])
        #expect(leaking.status == 0, "\(leaking.errorOutput)")
        let logs = try await nepho.run(["formation:logs", "leaky"])
        #expect(logs.output.contains("the password is <redacted>"), "\(logs.output)")
        #expect(!logs.output.contains(secret))
        for file in ["state.db", "state.db-wal"] {
            let data =
                FileManager.default.contents(atPath: nepho.home.appendingPathComponent(file).path) ?? Data()
            #expect(data.range(of: Data(secret.utf8)) == nil, "the secret reached \(file)")
        }
    }

    /// The real vagrant (Debian's package, installed by scripts/test): with no provider
    /// here, `vagrant up` fails, and the build says what to do.
    @Test func theRealVagrantWithoutAProviderFailsWithTheRemedy() async throws {
        try #require(
            ProcessRunner.resolve("vagrant") != nil,
            "vagrant is not installed: scripts/test installs Debian's package")
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let create = try await nepho.run(["create", "mediawiki/vagrant", "--name", "real"])
        #expect(create.status == 1, "\(create.output)\(create.errorOutput)")
        #expect(create.errorOutput.contains("no usable provider"), "\(create.errorOutput)")
        #expect(create.errorOutput.contains("Install VirtualBox"), "\(create.errorOutput)")
        // No machine was made, so destroying needs no provider: the name is free again.
        let destroy = try await nepho.run(["destroy", "real", "--yes"])
        #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        #expect(
            !FileManager.default.fileExists(atPath: nepho.home.appendingPathComponent("formations/real").path)
        )
        let again = try await nepho.run(["create", "mediawiki/vagrant", "--name", "real", "--detach"])
        #expect(again.status == 0, "\(again.errorOutput)")
    }
}
