import Foundation
import NephoSupport
import NephoTestBench
import Testing

@testable import NephoEngine

/// The real `vagrant` (Debian's package, installed by scripts/test) on formation folders
/// that nepho lays out. This machine has no Vagrant provider (no VirtualBox, no
/// libvirt), so no machine is started: the tests check what runs without one —
/// `vagrant validate -p`, the no-provider error — and `vagrant status` with a stand-in
/// `VBoxManage` (a test double that only answers VirtualBox's version probe, so that
/// Vagrant's VirtualBox provider counts as usable and reports `not_created`).
@Suite(.serialized) struct VagrantRealTests {
    /// HOME and VAGRANT_HOME in the test's own folder; no version check over the network.
    static func base(_ home: VagrantTestHome, path: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.root.appendingPathComponent("user").path
        environment["VAGRANT_HOME"] = home.root.appendingPathComponent("vagrant.d").path
        environment["VAGRANT_CHECKPOINT_DISABLE"] = "1"
        environment["VAGRANT_DEFAULT_PROVIDER"] = nil
        if let path { environment["PATH"] = path }
        return environment
    }

    static func requireVagrant() throws {
        try #require(
            ProcessRunner.resolve("vagrant") != nil,
            "vagrant is not installed: scripts/test installs Debian's package")
    }

    /// A folder on PATH holding the stand-in VBoxManage.
    static func standInVirtualBox(_ home: VagrantTestHome) async throws -> String {
        let bin = home.root.appendingPathComponent("stand-in-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let script = bin.appendingPathComponent("VBoxManage")
        try await ExecutableFile.write(
            "#!/bin/sh\n# Test double for VirtualBox's VBoxManage: answers the version probe only.\ncase \"$1\" in --version) echo 7.0.20r163906; exit 0;; esac\necho \"stand-in VBoxManage: $*\" >&2\nexit 1\n",
            to: script)
        return bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }

    @Test func cloudletVagrantfilePassesValidateWithoutAProvider() async throws {
        try Self.requireVagrant()
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki", secret: "s3cret-Passw0rd")
        let runner = VagrantRunner(environment: environment, baseEnvironment: Self.base(home))
        try await runner.validate()
        // Plain `vagrant validate` also checks the provider's settings, and so needs a
        // usable provider: here there is none, and that is the error nepho reports.
        do {
            try await runner.validate(checkProvider: true)
        } catch let problem as VagrantProblem {
            #expect(problem.kind == .noUsableProvider)
        }
    }

    @Test func generatedVagrantfilePassesValidate() async throws {
        try Self.requireVagrant()
        let home = VagrantTestHome()
        let environment = try home.generated(formation: "plain")
        try await VagrantRunner(environment: environment, baseEnvironment: Self.base(home)).validate()
    }

    /// With docker on the machine (scripts/test installs docker.io), a generated Vagrantfile
    /// choosing the docker provider passes the full `vagrant validate`, provider settings included.
    @Test func generatedDockerVagrantfilePassesTheProvidersValidation() async throws {
        try Self.requireVagrant()
        try #require(
            ProcessRunner.resolve("docker") != nil, "docker is not installed: scripts/test installs docker.io"
        )
        let home = VagrantTestHome()
        let environment = try home.generated(
            formation: "box", overrides: ["VagrantProvider": "docker", "Box": "", "SSHPort": "2301"])
        try await VagrantRunner(environment: environment, baseEnvironment: Self.base(home)).validate(
            checkProvider: true)
    }

    @Test func brokenVagrantfileIsReportedAsInvalid() async throws {
        try Self.requireVagrant()
        let home = VagrantTestHome()
        let environment = try home.generated(formation: "plain")
        try Data("Vagrant.configure(\"2\") do |config|\n  config.vm.box = 1 +\nend\n".utf8).write(
            to: environment.vagrantfile)
        await #expect {
            try await VagrantRunner(environment: environment, baseEnvironment: Self.base(home)).validate()
        } throws: { error in
            (error as? VagrantProblem)?.kind == .invalidVagrantfile
        }
    }

    @Test func statusOfANewFormationIsNotCreated() async throws {
        try Self.requireVagrant()
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki")
        let runner = VagrantRunner(
            environment: environment,
            baseEnvironment: Self.base(home, path: try await Self.standInVirtualBox(home))
        )
        let statuses = try await runner.status()
        #expect(statuses.map(\.name) == ["default"])
        #expect(statuses.first?.state == .notCreated)
        #expect(statuses.first?.provider == "virtualbox")
    }

    /// The formation's folder is a Vagrant project a person can use: `vagrant status` run
    /// there by hand, without anything nepho sets, reads the Vagrantfile (whose fallback
    /// path to the bootstrap script would point outside the folder) and answers.
    @Test func vagrantRunByHandInAFormationFolderWorks() async throws {
        try Self.requireVagrant()
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki")
        let result = try await ProcessRunner.run(
            "vagrant", ["status", "--machine-readable"],
            environment: Self.base(home, path: try await Self.standInVirtualBox(home)),
            currentDirectory: environment.folder, timeout: 120)
        #expect(result.status == 0, "\(result.output)\(result.errorOutput)")
        #expect(VagrantMachineStatus.parse(result.output).first?.state == .notCreated)
        let vagrantfile = try String(contentsOf: environment.vagrantfile, encoding: .utf8)
        #expect(vagrantfile.contains("'HTTPPort' => '8080'"), "\(vagrantfile.prefix(600))")
    }

    @Test func noProviderIsRecognisedFromRealVagrant() async throws {
        try Self.requireVagrant()
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki")
        let runner = VagrantRunner(environment: environment, baseEnvironment: Self.base(home))
        await #expect {
            _ = try await runner.status()
        } throws: { error in
            (error as? VagrantProblem)?.kind == .noUsableProvider
        }
        // `vagrant up` streams its events, then ends with the same explained error.
        let events = EventLog()
        let result = try await runner.run(.up) { events.append($0) }
        #expect(result.summary.exitStatus != 0)
        #expect(result.problem?.kind == .noUsableProvider)
        #expect(result.problem?.description.contains("Install VirtualBox") == true)
        #expect(events.kinds.contains { if case .error = $0 { return true } else { return false } })
    }

    @Test func missingVagrantIsExplained() async throws {
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki")
        let runner = VagrantRunner(
            environment: environment, baseEnvironment: Self.base(home, path: home.root.path))
        await #expect(throws: VagrantProblem.notInstalled) { _ = try await runner.run(.up) }
        #expect(
            VagrantProblem.notInstalled.description.contains(
                "apt-get install --no-install-recommends vagrant"))
    }
}

/// Events gathered by a callback.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [VagrantEvent] = []
    func append(_ event: VagrantEvent) { lock.withLock { events.append(event) } }
    var kinds: [VagrantEvent.Kind] { lock.withLock { events.map(\.kind) } }
}
