import Foundation
import NephoEngine
import NephoSupport
import NephoTestBench
import Testing

/// Vagrant formations end to end: the real `nepho`, the `nephod` it starts and the
/// `nephod monitor` processes it spawns, on the example cloudlet `mediawiki/vagrant`.
///
/// What a real machine does (boot, phases, ssh, destroy, crashes mid-`up`, cancel, a
/// failing provisioner, secrets) is tested with real machines on Vagrant's docker
/// provider: VagrantDockerEndToEndTests. What is left here is what cannot run on these
/// machines: mediawiki's own scenario on VirtualBox (its box is Amazon Linux 2023), for
/// which `vagrant` is `Fixtures/vagrant/replay-vagrant` — a test double that prints a
/// VirtualBox transcript (Fixtures/vagrant/README.md says how each was made), chosen
/// through `NEPHO_VAGRANT` (a documented test hook); and the real vagrant without a
/// VirtualBox or libvirt provider, which fails and says what to do.
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

    /// A failing provisioner whose last lines print the secret (it must not): the build's
    /// error carries the hand-off's report, with the secret redacted there too.
    @Test func aFailingProvisionerThatPrintsTheSecretLeavesItOutOfTheBuildError() async throws {
        let nepho = try setUp()
        defer { Task { await stop(nepho) } }
        let secret = "Failed-s3cret-\(UUID().uuidString.prefix(8))"
        let original = try String(
            contentsOf: Self.fixtures.appendingPathComponent("up-provisioner-fails.txt"), encoding: .utf8)
        let leaky = original.replacingOccurrences(
            of: "NEPHO_RESULT FAILURE bootstrap exited with status 1: ",
            with: "NEPHO_RESULT FAILURE bootstrap exited with status 1: the password is \(secret) ")
        #expect(leaky != original)
        let transcript = scratch(nepho, "leaky-failure.txt")
        try leaky.write(to: transcript, atomically: true, encoding: .utf8)
        nepho.environment["NEPHO_VAGRANT"] = try await standIn(nepho, transcript.path, exit: 1)
        let create = try await nepho.run([
            "create", "mediawiki/vagrant", "--name", "leakyfail", "-p", "AdminPassword=\(secret)",
        ])
        #expect(create.status != 0)
        #expect(!create.output.contains(secret) && !create.errorOutput.contains(secret))
        let describe = try await nepho.run(["formation:describe", "leakyfail", "-o", "json"])
        #expect(describe.output.contains("the password is <redacted>"), "\(describe.output)")
        #expect(!describe.output.contains(secret))
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
