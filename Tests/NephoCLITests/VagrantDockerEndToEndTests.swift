import Foundation
import NephoEngine
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Vagrant formations that really boot: the real `nepho`, `nephod` and `nephod monitor`
/// running the real `vagrant` with its docker provider, on the Debian image that
/// scripts/vagrant-docker-image builds (scripts/test installs docker.io and debootstrap,
/// starts dockerd and builds the image; NEPHO_VAGRANT_DOCKER_IMAGE names it).
///
/// The test cloudlet `box` has a vagrant scenario without a Vagrantfile of its own (nepho
/// generates one, `VagrantProvider: docker`) and a provisioner with three phases that
/// waits, after the first, until the file `hold/release` of the cloudlet exists (the
/// cloudlet's `hold/` folder is the machine's `/nepho-hold`): a build held in the middle
/// of `vagrant up` without any timing.
@Suite(.serialized)
struct VagrantDockerEndToEndTests {
    static var image: String {
        ProcessInfo.processInfo.environment["NEPHO_VAGRANT_DOCKER_IMAGE"] ?? "nepho/vagrant-debian:bookworm"
    }

    static let provisioner = """
        #!/bin/bash
        set -eu
        echo "NEPHO_PHASE 1/3 Waiting for the test"
        while [ ! -e /nepho-hold/release ]; do sleep 0.1; done
        echo "NEPHO_PHASE 2/3 Writing the greeting"
        echo "$Greeting" > /etc/nepho-greeting
        echo "$Token" > /etc/nepho-token
        chmod 600 /etc/nepho-token
        if [ "$Leak" = yes ]; then echo "the token is $Token"; fi
        if [ "$Fail" = yes ]; then
          echo "about to fail"
          echo "the last words of the script"
          exit 3
        fi
        echo "NEPHO_PHASE 3/3 Done"

        """

    /// docker and the image must be there: scripts/test provides both.
    func requireDocker() async throws {
        try #require(ProcessRunner.resolve("vagrant") != nil, "vagrant is not installed: run scripts/test")
        let info = try await ProcessRunner.run("docker", ["image", "inspect", Self.image], timeout: 60)
        try #require(
            info.status == 0,
            "no docker daemon or no image \(Self.image): scripts/test starts dockerd and runs scripts/vagrant-docker-image (\(info.errorOutput))"
        )
    }

    /// A private home with the `box` cloudlet; `held` leaves its provisioner waiting.
    func setUp(held: Bool = false) throws -> (nepho: NephoBinary, release: URL) {
        let nepho = NephoBinary()
        nepho.environment["NEPHOD_PATH"] =
            (NephoBinary.executable as NSString).deletingLastPathComponent + "/nephod"
        nepho.environment["VAGRANT_CHECKPOINT_DISABLE"] = "1"
        nepho.environment["VAGRANT_HOME"] =
            nepho.home.deletingLastPathComponent().appendingPathComponent("vagrant.d").path
        nepho.write([
            "cloudlets/box/cloudlet.yaml": """
            name: box
            version: 1.0.0
            author: nepho project
            license: Apache-2.0
            summary: A Debian machine through Vagrant's docker provider, for tests
            description: >-
              Boots the image of scripts/vagrant-docker-image with Vagrant's docker provider
              and runs a provisioner of three phases. Not for real use.
            parameters:
              Greeting:
                default: hello from the machine
                description: What the provisioner writes to /etc/nepho-greeting.

            """,
            "cloudlets/box/scenarios/vagrant.yaml": """
            summary: the machine on Vagrant's docker provider
            provider: vagrant
            provisioner: boot.sh
            parameters:
              VagrantProvider:
                default: docker
                description: The provider.
              DockerImage:
                default: '\(Self.image)'
                description: The image.
              SSHPort:
                default: 2222
                description: ssh on 127.0.0.1.
              ForwardedPorts:
                default: ''
                description: HOST:GUEST ports on 127.0.0.1.
              SyncedFolder:
                default: 'hold:/nepho-hold'
                description: Where the test releases the provisioner.
              Fail:
                default: 'no'
                description: yes = the provisioner fails after its second phase.
              Leak:
                default: 'no'
                description: yes = the provisioner prints the secret Token (which it must not).
              Token:
                default: ''
                description: A secret the provisioner writes to /etc/nepho-token.
                secret: true

            """,
            "cloudlets/box/scenarios/default.yaml": """
            summary: the machine on Vagrant's docker provider
            provider: vagrant
            provisioner: boot.sh
            parameters:
              VagrantProvider:
                default: docker
                description: The provider.
              DockerImage:
                default: '\(Self.image)'
                description: The image.
              SSHPort:
                default: 2222
                description: ssh on 127.0.0.1.
              ForwardedPorts:
                default: ''
                description: HOST:GUEST ports on 127.0.0.1.
              SyncedFolder:
                default: 'hold:/nepho-hold'
                description: Where the test releases the provisioner.
              Fail:
                default: 'no'
                description: yes = the provisioner fails after its second phase.
              Leak:
                default: 'no'
                description: yes = the provisioner prints the secret Token (which it must not).
              Token:
                default: ''
                description: A secret the provisioner writes to /etc/nepho-token.
                secret: true

            """,
            "cloudlets/box/provisioners/boot.sh": Self.provisioner,
        ])
        let release = nepho.home.appendingPathComponent("cloudlets/box/hold/release")
        try FileManager.default.createDirectory(
            at: release.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !held { release.touch() }
        return (nepho, release)
    }

    /// Removes every container a formation of this home left (a failed test), and stops the daemon.
    func cleanUp(_ nepho: NephoBinary) async {
        let formations = nepho.home.appendingPathComponent("formations")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: formations.path)) ?? [] {
            let id = formations.appendingPathComponent("\(name)/.vagrant/machines/default/docker/id")
            if let text = try? String(contentsOf: id, encoding: .utf8) {
                _ = try? await ProcessRunner.run(
                    "docker", ["rm", "-f", text.trimmingCharacters(in: .whitespacesAndNewlines)], timeout: 60)
            }
        }
        _ = try? await nepho.run(["daemon:stop"])
    }

    /// Runs `body`, then always `cleanUp`.
    func withHome(held: Bool = false, _ body: (NephoBinary, URL) async throws -> Void) async throws {
        try await requireDocker()
        let (nepho, release) = try setUp(held: held)
        do {
            try await body(nepho, release)
        } catch {
            await cleanUp(nepho)
            throw error
        }
        await cleanUp(nepho)
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

    /// The stored events of every build of `name`: (id, status), in order.
    func storedEvents(_ nepho: NephoBinary, _ name: String) async throws -> [(id: String, status: String)] {
        let logs = try await nepho.run(["formation:logs", name, "-o", "json"])
        let builds = json(logs.output)["builds"] as? [[String: Any]] ?? []
        return builds.flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                guard let event = $0["event"] as? [String: Any], let id = event["eventID"] as? String else {
                    return nil
                }
                return (id, event["status"] as? String ?? "")
            }
        }
    }

    /// The event ids of vagrant's whole log of build `build` (what it printed, read
    /// afterwards), each once and in order: what the monitors must have stored.
    func eventIDs(ofLog log: URL, build: Int) throws -> [String] {
        let text = try String(contentsOf: log, encoding: .utf8)
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

    /// Waits until an event with `status` is stored for `name`.
    func waitForStatus(_ nepho: NephoBinary, _ name: String, _ status: String) async throws {
        for _ in 0..<1200 {
            if try await storedEvents(nepho, name).contains(where: { $0.status == status }) { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw NephoTestError("no \(status) event for \(name) within 120 s")
    }

    /// The docker container of formation `name` (from Vagrant's record), if any.
    func container(_ nepho: NephoBinary, _ name: String) -> String? {
        let id = nepho.home.appendingPathComponent("formations/\(name)/.vagrant/machines/default/docker/id")
        return (try? String(contentsOf: id, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func containerExists(_ id: String) async throws -> Bool {
        try await ProcessRunner.run("docker", ["container", "inspect", id], timeout: 60).status == 0
    }

    /// A port nothing listens on now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        guard let port = LoopbackPort.free() else { throw NephoTestError("no free port") }
        return Int(port)
    }

    /// scripts/vagrant-docker-image is cached by the hash of its inputs: run again for the
    /// image scripts/test made, it builds nothing; for an image of that name whose hash
    /// differs (its inputs changed since), it builds the image anew.
    @Test func theImageIsBuiltAgainOnlyWhenItsInputsChanged() async throws {
        try await requireDocker()
        let script = NephoBinary.repository.appendingPathComponent("scripts/vagrant-docker-image").path
        let label = "{{ index .Config.Labels \"org.nepho.inputs\" }}"
        let current = try await ProcessRunner.run(
            "docker", ["image", "inspect", "--format", label, Self.image], timeout: 60)
        let cached = try await ProcessRunner.run(script, [Self.image], timeout: 60)
        #expect(
            cached.status == 0 && cached.output == "\(Self.image)\n", "\(cached.output)\(cached.errorOutput)")
        #expect(!cached.errorOutput.contains("building"), "\(cached.errorOutput)")

        // An image of another name, with the label of other inputs.
        let stale = "nepho-test/vagrant-debian:stale-\(UUID().uuidString.prefix(8).lowercased())"
        let made = try await ProcessRunner.run(
            "docker", ["build", "-q", "-t", stale, "-"],
            input: Data("FROM \(Self.image)\nLABEL org.nepho.inputs=inputs-of-before\n".utf8), timeout: 120)
        try #require(made.status == 0, "\(made.errorOutput)")
        let rebuilt = try await ProcessRunner.run(script, [stale], timeout: 600)
        #expect(rebuilt.status == 0, "\(rebuilt.errorOutput)")
        #expect(rebuilt.errorOutput.contains("building \(stale)"), "\(rebuilt.errorOutput)")
        let after = try await ProcessRunner.run(
            "docker", ["image", "inspect", "--format", label, stale], timeout: 60)
        #expect(
            after.output == current.output && after.output.count > 2, "\(after.output) vs \(current.output)")
        _ = try await ProcessRunner.run("docker", ["rmi", "-f", stale], timeout: 60)
    }

    @Test func aMachineBootsLivesThroughAKilledMonitorAnswersSSHAndIsDestroyed() async throws {
        try await withHome(held: true) { nepho, release in
            let port = try Self.freePort()
            let forwarded = try Self.freePort()
            let create = try await nepho.run([
                "create", "box/vagrant", "--name", "real", "-p", "SSHPort=\(port)", "-p",
                "ForwardedPorts=\(forwarded):22", "--detach",
            ])
            #expect(create.succeeded, "\(create.errorOutput)")
            let build = try await lastBuild(nepho, "real")
            let lock = nepho.home.appendingPathComponent("builds/\(build).lock")

            // The machine is up and the provisioner in its first phase: the phase is stored
            // as it happens, the later ones not yet.
            try await waitForStatus(nepho, "real", "PHASE 1/3")
            let early = try await storedEvents(nepho, "real").map(\.status)
            #expect(!early.contains("PHASE 2/3") && !early.contains("UP_END"), "\(early)")
            let running = try #require(container(nepho, "real"), "vagrant recorded no container")
            #expect(try await containerExists(running))

            // kill -9 of the monitor in the middle of `vagrant up`: the daemon starts another.
            let first = try await waitForMonitor(lock, not: nil)
            kill(first, SIGKILL)
            _ = try await waitForMonitor(lock, not: first)

            // The live table, on a terminal (`script` gives one), shows the phases as they come.
            let live = Task {
                try await ProcessRunner.run(
                    "script", ["-qec", "\(NephoBinary.executable) formation:watch real", "/dev/null"],
                    environment: nepho.environment.merging(["NO_COLOR": "1"]) { $1 }, timeout: 300)
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
            release.touch()
            let watched = try await live.value
            #expect(watched.status == 0, "\(watched.output)")
            #expect(watched.output.contains("1/3 Waiting for the test"), "\(watched.output)")
            #expect(watched.output.contains("provisioner: 3/3 Done"), "\(watched.output)")

            // Every line vagrant printed is stored exactly once, in order, across both monitors.
            let stored = try await storedEvents(nepho, "real")
            let log = nepho.home.appendingPathComponent("formations/real/nepho/builds/\(build).log")
            #expect(stored.map(\.id) == (try eventIDs(ofLog: log, build: build)))
            for phase in 1...3 { #expect(stored.contains { $0.status == "PHASE \(phase)/3" }) }
            #expect(stored.contains { $0.status == "PROVISIONER_SUCCESS" })

            let describe = try await nepho.run(["formation:describe", "real"])
            #expect(
                describe.output.contains("MachineState") && describe.output.contains("running"),
                "\(describe.output)")
            #expect(describe.output.contains("127.0.0.1:\(port)"), "\(describe.output)")
            let address = try await nepho.run(["ssh", "real", "--print-only"])
            #expect(
                address.output.contains("127.0.0.1") && address.output.contains("\(port)"),
                "\(address.output)\(address.errorOutput)")

            // ForwardedPorts reach the machine (here its sshd), on 127.0.0.1 only.
            let banner = try await ProcessRunner.run(
                "bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(forwarded); head -c 8 <&3"], timeout: 30)
            #expect(banner.output == "SSH-2.0-", "\(banner.output)\(banner.errorOutput)")
            let published = try await ProcessRunner.run("docker", ["port", running], timeout: 60)
            let bindings = published.output.split(separator: "\n").map(String.init)
            #expect(bindings.count == 2, "\(published.output)")
            #expect(
                bindings.allSatisfy {
                    $0.hasSuffix(" -> 127.0.0.1:\(port)") || $0.hasSuffix(" -> 127.0.0.1:\(forwarded)")
                }, "\(published.output)")

            // formation:ssh runs the command in the machine and passes its exit status on.
            let greeting = try await nepho.run(["ssh", "real", "--", "cat", "/etc/nepho-greeting"])
            #expect(greeting.status == 0, "\(greeting.errorOutput)")
            #expect(greeting.output.contains("hello from the machine"), "\(greeting.output)")
            let failing = try await nepho.run(["ssh", "real", "--", "sh", "-c", "'exit 7'"])
            #expect(failing.status == 7, "\(failing.output)\(failing.errorOutput)")
            let user = try await nepho.run(["ssh", "real", "--", "sudo", "id", "-u"])
            #expect(
                user.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0",
                "\(user.output)\(user.errorOutput)")

            // destroy removes the machine, the folder, and frees the name.
            let destroy = try await nepho.run(["destroy", "real", "--yes"])
            #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
            #expect(destroy.output.contains("not_created"), "\(destroy.output)")
            #expect(!(try await containerExists(running)), "the container is still there")
            #expect(
                !FileManager.default.fileExists(
                    atPath: nepho.home.appendingPathComponent("formations/real").path))
            let again = try await nepho.run([
                "create", "box/vagrant", "--name", "real", "-p", "SSHPort=\(port)",
            ])
            #expect(again.status == 0, "\(again.output)\(again.errorOutput)")
            let second = try #require(container(nepho, "real"))
            #expect(second != running)
            let gone = try await nepho.run(["destroy", "real", "--yes"])
            #expect(gone.status == 0, "\(gone.errorOutput)")
        }
    }

    /// kill -9 of the daemon and of the monitor during `vagrant up`: the next command's
    /// daemon adopts the build, which ends with every line once; the monitor it starts has
    /// the secret only from vagrant's wrapper, and still redacts it where the provisioner
    /// prints it (it must not); the secret reached the machine and no file nepho wrote.
    @Test func daemonAndMonitorKilledDuringUpTheBuildIsAdoptedWithEveryLineOnce() async throws {
        try await withHome(held: true) { nepho, release in
            let secret = "Real-s3cret-\(UUID().uuidString.prefix(8))"
            let create = try await nepho.run([
                "create", "box/vagrant", "--name", "crash", "-p", "SSHPort=\(try Self.freePort())", "-p",
                "Token=\(secret)", "-p", "Leak=yes", "--detach",
            ])
            #expect(create.succeeded, "\(create.errorOutput)")
            let build = try await lastBuild(nepho, "crash")
            let lock = nepho.home.appendingPathComponent("builds/\(build).lock")
            try await waitForStatus(nepho, "crash", "PHASE 1/3")

            // As after a crash: no daemon and no monitor; vagrant goes on in its own session.
            let monitor = try await waitForMonitor(lock, not: nil)
            let status = json(try await nepho.run(["daemon:status", "-o", "json"]).output)
            kill(pid_t(try #require(status["pid"] as? Int)), SIGKILL)
            kill(monitor, SIGKILL)
            // The next command starts a daemon, which adopts the build with a new monitor.
            #expect(try await nepho.run(["formation:list"]).succeeded)
            _ = try await waitForMonitor(lock, not: monitor)
            release.touch()

            let watch = try await nepho.run(["formation:watch", "crash"])
            #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
            let stored = try await storedEvents(nepho, "crash")
            let log = nepho.home.appendingPathComponent("formations/crash/nepho/builds/\(build).log")
            #expect(stored.map(\.id) == (try eventIDs(ofLog: log, build: build)))
            #expect(stored.contains { $0.status == "PHASE 3/3" } && stored.contains { $0.status == "UP_END" })
            let describe = try await nepho.run(["formation:describe", "crash"])
            #expect(describe.output.contains("running"), "\(describe.output)")
            #expect(describe.output.contains("Token") && describe.output.contains("********"))

            let logs = try await nepho.run(["formation:logs", "crash"])
            #expect(logs.output.contains("the token is <redacted>"), "\(logs.output)")
            #expect(!logs.output.contains(secret))
            let inMachine = try await nepho.run(["ssh", "crash", "--", "sudo", "cat", "/etc/nepho-token"])
            #expect(inMachine.output.contains(secret), "\(inMachine.output)\(inMachine.errorOutput)")
            for file in ["state.db", "state.db-wal"] {
                let data =
                    FileManager.default.contents(atPath: nepho.home.appendingPathComponent(file).path)
                    ?? Data()
                #expect(data.range(of: Data(secret.utf8)) == nil, "the secret reached \(file)")
            }
            // Only vagrant's own log of its output (which the provisioner wrote it to) holds it.
            let folder = nepho.home.appendingPathComponent("formations/crash")
            for name in ["Vagrantfile", "nepho/formation.json", "nepho/provision.sh"] {
                let text =
                    (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
                #expect(!text.isEmpty && !text.contains(secret), "\(name)")
            }
            #expect(try await nepho.run(["destroy", "crash", "--yes"]).status == 0)
        }
    }

    /// formation:cancel of a create in the middle of `vagrant up`: vagrant is interrupted
    /// (it finishes the provisioner it runs, then stops), the machine is destroyed, the
    /// create is "superseded by destroy", and the name is free.
    @Test func cancelInterruptsARealCreateAndDestroysTheMachine() async throws {
        try await withHome(held: true) { nepho, release in
            let create = try await nepho.run([
                "create", "box/vagrant", "--name", "held", "-p", "SSHPort=\(try Self.freePort())", "--detach",
            ])
            #expect(create.succeeded, "\(create.errorOutput)")
            try await waitForStatus(nepho, "held", "PHASE 1/3")
            let machine = try #require(container(nepho, "held"))
            let cancel = try await nepho.run(["formation:cancel", "held", "--yes"])
            #expect(cancel.status == 0, "\(cancel.errorOutput)")
            release.touch()
            let watch = try await ProcessRunner.run(
                NephoBinary.executable, ["formation:watch", "held"], environment: nepho.environment,
                timeout: 300)
            #expect(
                watch.status == 0 && watch.output.contains("not_created"),
                "\(watch.output)\(watch.errorOutput)")
            let describe = try await nepho.run(["formation:describe", "held", "-o", "json"])
            let builds = json(describe.output)["builds"] as? [[String: Any]] ?? []
            #expect(builds.first?["error"] as? String == "superseded by destroy", "\(describe.output)")
            #expect(builds.last?["status"] as? String == "not_created")
            #expect(!(try await containerExists(machine)), "the container is still there")
        }
    }

    /// vagrant and its wrapper killed mid-`up` (as when the computer restarts): the build
    /// fails with the explanation; the machine it left is still destroyed by nepho.
    @Test func vagrantGoneWithoutAStatusFailsTheBuildWithTheExplanation() async throws {
        try await withHome(held: true) { nepho, _ in
            let create = try await nepho.run([
                "create", "box/vagrant", "--name", "vanished", "-p", "SSHPort=\(try Self.freePort())",
                "--detach",
            ])
            #expect(create.succeeded, "\(create.errorOutput)")
            let build = try await lastBuild(nepho, "vanished")
            try await waitForStatus(nepho, "vanished", "PHASE 1/3")
            let file = nepho.home.appendingPathComponent("formations/vanished/nepho/builds/\(build).run.json")
            let data = try #require(FileManager.default.contents(atPath: file.path))
            let run = try #require(
                (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["run"] as? [String: Any])
            kill(-pid_t(try #require(run["pid"] as? Int)), SIGKILL)
            let watch = try await nepho.run(["formation:watch", "vanished"])
            #expect(watch.status == 1)
            #expect(
                watch.errorOutput.contains("vagrant stopped without reporting how it ended"),
                "\(watch.errorOutput)")
            let machine = try #require(container(nepho, "vanished"))
            let destroy = try await nepho.run(["destroy", "vanished", "--yes"])
            #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
            #expect(!(try await containerExists(machine)), "the container is still there")
        }
    }

    @Test func aFailingProvisionerFailsTheBuildWithItsLastLines() async throws {
        try await withHome { nepho, _ in
            let create = try await nepho.run([
                "create", "box/vagrant", "--name", "broken", "-p", "SSHPort=\(try Self.freePort())", "-p",
                "Fail=yes",
            ])
            #expect(create.status == 1, "\(create.output)\(create.errorOutput)")
            #expect(create.output.contains("PROVISIONER_FAILURE"), "\(create.output)")
            #expect(create.errorOutput.contains("create_failed"), "\(create.errorOutput)")
            #expect(create.errorOutput.contains("the last words of the script"), "\(create.errorOutput)")
            #expect(create.errorOutput.contains("fix the script or the parameters"), "\(create.errorOutput)")
            let watch = try await nepho.run(["formation:watch", "broken"])
            #expect(
                watch.status == 1 && watch.errorOutput.contains("the last words of the script"),
                "\(watch.errorOutput)")
            let taken = try await nepho.run(["create", "box/vagrant", "--name", "broken"])
            #expect(taken.status == 5 && taken.errorOutput.contains("already exists"), "\(taken.errorOutput)")
            let update = try await nepho.run(["formation:update", "broken", "-p", "Greeting=hi", "--yes"])
            #expect(
                update.status != 0 && update.errorOutput.contains("destroy it and create it again"),
                "\(update.errorOutput)")
            let machine = try #require(container(nepho, "broken"))
            let destroy = try await nepho.run(["destroy", "broken", "--yes"])
            #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
            #expect(!(try await containerExists(machine)))
        }
    }
}

/// The mediawiki example on the docker provider (`mediawiki/vagrant-docker`: Debian's
/// mediawiki package with Apache and MariaDB, which the container fetches from Debian's
/// mirror): heavier than the tests above (about a minute and 150 MB of packages), so it
/// runs only with NEPHO_TEST_MEDIAWIKI_DOCKER=1 (docs/vagrant.md records a run).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["NEPHO_TEST_MEDIAWIKI_DOCKER"] == "1"))
struct MediaWikiDockerEndToEndTests {
    @Test func theWikisMainPageAnswersOnTheURLOfFormationOpen() async throws {
        let suite = VagrantDockerEndToEndTests()
        try await suite.requireDocker()
        let nepho = NephoBinary()
        nepho.environment["NEPHOD_PATH"] =
            (NephoBinary.executable as NSString).deletingLastPathComponent + "/nephod"
        nepho.environment["VAGRANT_CHECKPOINT_DISABLE"] = "1"
        nepho.environment["VAGRANT_HOME"] =
            nepho.home.deletingLastPathComponent().appendingPathComponent("vagrant.d").path
        try FileManager.default.copyItem(
            at: NephoBinary.repository.appendingPathComponent("cloudlets/mediawiki"),
            to: nepho.home.appendingPathComponent("cloudlets/mediawiki"))
        do {
            let create = try await ProcessRunner.run(
                NephoBinary.executable,
                [
                    "create", "mediawiki/vagrant-docker", "--name", "wiki", "-p",
                    "SSHPort=\(try VagrantDockerEndToEndTests.freePort())", "-p",
                    "HTTPPort=\(try VagrantDockerEndToEndTests.freePort())", "-p",
                    "DockerImage=\(VagrantDockerEndToEndTests.image)",
                    "-p", "AdminPassword=Nepho-Wiki-\(UUID().uuidString.prefix(8))",
                ], environment: nepho.environment, timeout: 900)
            #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
            for phase in 1...6 { #expect(create.output.contains("PHASE \(phase)/6"), "phase \(phase)") }
            let open = try await nepho.run(["open", "wiki", "--print-only"])
            let url = open.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/wiki/Main_Page"), "\(url)")
            let page = try await ProcessRunner.run("curl", ["-fsS", url], timeout: 60)
            #expect(page.status == 0, "\(page.errorOutput)")
            #expect(page.output.contains("<title>Nepho Wiki</title>"), "\(page.output.prefix(400))")
            #expect(page.output.contains("content=\"MediaWiki 1."), "\(page.output.prefix(400))")
            let destroy = try await nepho.run(["destroy", "wiki", "--yes"])
            #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        } catch {
            await suite.cleanUp(nepho)
            throw error
        }
        await suite.cleanUp(nepho)
    }
}

extension URL {
    /// Creates the file, empty.
    fileprivate func touch() { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
}
