import Foundation
import NephoCore
import NephoSupport
import Testing

@testable import NephoEngine

/// Laying out `$NEPHO_HOME/formations/NAME/` for vagrant scenarios, and nepho's hand-off
/// script run on this machine (with its /etc and /var/log paths moved to a temp folder).
@Suite struct VagrantEnvironmentTests {
    static let secret = "s3cret-Passw0rd-for-tests"

    @Test func mediawikiScenarioUsesTheCloudletsVagrantfile() throws {
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki", secret: Self.secret)
        #expect(environment.folder.path == home.root.path + "/formations/wiki")
        let vagrantfile = try String(contentsOf: environment.vagrantfile, encoding: .utf8)
        let original = try String(
            contentsOf: VagrantTranscripts.root.appendingPathComponent(
                "cloudlets/mediawiki/patterns/vagrant/Vagrantfile"),
            encoding: .utf8)
        // The cloudlet's Vagrantfile, after nepho's values for running vagrant by hand there.
        #expect(vagrantfile.hasSuffix(original))
        #expect(vagrantfile.hasPrefix("# Written by nepho for formation wiki"))
        #expect(!vagrantfile.contains(Self.secret))
        let handoff = try String(contentsOf: environment.provisionerScript, encoding: .utf8)
        let bootstrap = try String(
            contentsOf: VagrantTranscripts.root.appendingPathComponent(
                "cloudlets/mediawiki/provisioners/bootstrap.sh"),
            encoding: .utf8)
        #expect(handoff.contains("<<'NEPHO_BOOTSTRAP_END'\n" + bootstrap))  // the bootstrap, verbatim
        #expect(handoff.hasPrefix("#!/usr/bin/env bash\n"))
        let record = try VagrantEnvironment.open(environment.folder).record
        #expect(
            record.cloudlet == "mediawiki" && record.scenario == "vagrant" && !record.generatedVagrantfile)
        #expect(record.parameters["HTTPPort"] == "8080")
        #expect(record.parameters["AdminPassword"] == nil)
        #expect(record.secretParameters == ["AdminPassword"])
        #expect(!home.anyFileContains(Self.secret))

        let command = environment.commandEnvironment(
            base: ["PATH": "/usr/bin", "VAGRANT_LOG": "debug"],
            secrets: ["AdminPassword": Secret(Self.secret)])
        #expect(command["AdminPassword"] == Self.secret)
        #expect(command["HTTPPort"] == "8080")
        #expect(command["VAGRANT_LOG"] == nil)
        #expect(command["VAGRANT_CWD"] == environment.folder.path)
        #expect(command["NEPHO_PROVISIONER"] == environment.provisionerScript.path)
        #expect(record.url == "http://127.0.0.1:8080/wiki/Main_Page")
        if ProcessRunner.resolve("vagrant") != nil {
            let ssh = try environment.sshInvocation(command: ["uptime"], base: ["PATH": "/usr/bin:/bin"])
            #expect(ssh.arguments == ["ssh", "--", "uptime"])
            #expect(ssh.environment["VAGRANT_CWD"] == environment.folder.path)
            #expect(ssh.environment["AdminPassword"] == nil)
        }
        let entry = VagrantLogEntry(
            build: "1", line: 3, index: 0,
            event: VagrantEvent(
                timestamp: 1, machine: "default", kind: .provisionerOutput("pw is \(Self.secret)!")))
        #expect(entry.redacting([Secret(Self.secret)]).reason == "pw is <redacted>!")
    }

    @Test func aFolderHoldingAMachineIsNotOverwritten() throws {
        let home = VagrantTestHome()
        let environment = try home.mediawiki(formation: "wiki")
        try FileManager.default.createDirectory(
            at: environment.folder.appendingPathComponent(".vagrant/machines/default"),
            withIntermediateDirectories: true)
        #expect(throws: VagrantEnvironmentError.self) { try home.mediawiki(formation: "wiki") }
        #expect(throws: VagrantEnvironmentError.self) { try home.mediawiki(formation: "../escape") }
    }

    /// `--provider vagrant` on the aws scenario: the cloudlet's Vagrantfile, never the CloudFormation pattern.
    @Test func awsScenarioRunWithVagrantUsesTheCloudletsVagrantfile() throws {
        let home = VagrantTestHome()
        let cloudlet = try Cloudlet.open(
            VagrantTranscripts.root.appendingPathComponent("cloudlets/mediawiki"))
        let scenario = try cloudlet.scenario("default")
        let values = try ParameterResolver(
            template: [], cloudlet: cloudlet.manifest.parameters, scenario: scenario.parameters, user: [:],
            commandLine: ["KeyName": "k", "SSHLocation": "127.0.0.1/32"]
        ).resolve()
        let environment = try VagrantEnvironmentWriter(paths: home.paths).write(
            formation: "try", cloudlet: cloudlet, scenario: scenario, values: values)
        let text = try String(contentsOf: environment.vagrantfile, encoding: .utf8)
        #expect(text.contains("Vagrant.configure(\"2\")"))
        #expect(environment.record.scenario == "default" && !environment.record.generatedVagrantfile)
    }

    @Test func generatedVagrantfileBakesInNonSecretValues() throws {
        let home = VagrantTestHome()
        let environment = try home.generated(formation: "web-1", secret: Self.secret)
        let text = try String(contentsOf: environment.vagrantfile, encoding: .utf8)
        #expect(text.contains("'Box' => 'debian/bookworm64',"))
        #expect(text.contains("'ForwardedPorts' => '8081:80,2201:22',"))
        #expect(text.contains("'Greeting' => 'it\\'s a \\\\ test',"))
        #expect(text.contains("'ApiToken' => '',"))
        #expect(text.contains("config.vm.hostname = 'web-1'"))
        #expect(environment.record.generatedVagrantfile)
        #expect(!home.anyFileContains(Self.secret))
    }

    @Test func generatedVagrantfileChecksTheMachineParameters() throws {
        let home = VagrantTestHome()
        for (parameters, expected) in [
            (["ForwardedPorts": "8080"], "ForwardedPorts"), (["CPUs": "two"], "CPUs"),
            (["SyncedFolder": "../up:/srv"], "SyncedFolder"), (["Box": ""], "Box parameter"),
            (["VagrantProvider": "vmware"], "VagrantProvider must be one of virtualbox, libvirt, docker"),
            (["SSHPort": "0"], "SSHPort"),
        ] {
            #expect {
                try home.generated(formation: "bad", overrides: parameters)
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }

    /// `VagrantProvider: docker`: no box needed; the docker provider declared with ssh on
    /// 127.0.0.1:SSHPort only; the choice reaches vagrant as VAGRANT_DEFAULT_PROVIDER.
    @Test func generatedVagrantfileForTheDockerProvider() throws {
        let home = VagrantTestHome()
        let environment = try home.generated(
            formation: "box", overrides: ["VagrantProvider": "docker", "Box": "", "SSHPort": "2301"])
        let text = try String(contentsOf: environment.vagrantfile, encoding: .utf8)
        #expect(text.contains("'VagrantProvider' => 'docker',") && text.contains("'SSHPort' => '2301',"))
        #expect(text.contains("d.ports = [\"127.0.0.1:#{ssh_port}:22\"]"))
        #expect(text.contains("config.ssh.host = \"127.0.0.1\""))
        #expect(text.contains("id: \"ssh\", guest: 22, host: ssh_port, disabled: true"))
        #expect(text.contains(GeneratedVagrantfile.defaultDockerImage))
        #expect(environment.commandEnvironment(base: [:])["VAGRANT_DEFAULT_PROVIDER"] == "docker")
        // Without a choice, the caller's own VAGRANT_DEFAULT_PROVIDER stays.
        let plain = try home.generated(formation: "plain")
        #expect(
            plain.commandEnvironment(base: ["VAGRANT_DEFAULT_PROVIDER": "libvirt"])[
                "VAGRANT_DEFAULT_PROVIDER"]
                == "libvirt")
    }

    /// Without `SSHPort`, each docker formation gets a port of its own on 127.0.0.1 (the
    /// fallback 2222 is the same for every machine), baked into its Vagrantfile and given to
    /// its vagrant commands; one given is kept.
    @Test func dockerFormationsWithoutAnSSHPortGetOneEach() throws {
        let home = VagrantTestHome()
        var ports: [String] = []
        for name in ["one", "two", "three"] {
            let environment = try home.generated(
                formation: name, overrides: ["VagrantProvider": "docker", "Box": "", "SSHPort": ""])
            let port = try #require(environment.record.parameters["SSHPort"])
            #expect((20000...32000).contains(Int(port) ?? 0), "below the ephemeral range: \(port)")
            let text = try String(contentsOf: environment.vagrantfile, encoding: .utf8)
            #expect(text.contains("'SSHPort' => '\(port)',"), "\(text)")
            #expect(environment.commandEnvironment(base: [:])["SSHPort"] == port)
            ports.append(port)
        }
        #expect(Set(ports).count == 3, "\(ports)")
        #expect(
            try VagrantEnvironmentWriter.choosingSSHPort(
                [.init(name: "VagrantProvider", value: "docker"), .init(name: "SSHPort", value: "2301")],
                taken: []
            ).first { $0.name == "SSHPort" }?.value == "2301")
        #expect(
            try VagrantEnvironmentWriter.choosingSSHPort(
                [.init(name: "VagrantProvider", value: "virtualbox")], taken: []
            ).contains { $0.name == "SSHPort" } == false)
    }

    @Test func handoffReportsSuccessAndFailureWithPhases() async throws {
        let home = VagrantTestHome()
        for (body, status, expected) in [
            (
                "echo 'NEPHO_PHASE 1/2 One'\necho \"env: $GREETING\"\necho 'NEPHO_PHASE 2/2 Two'\n", Int32(0),
                "NEPHO_RESULT SUCCESS bootstrap finished: NEPHO_PHASE 2/2 Two"
            ),
            (
                "echo 'NEPHO_PHASE 1/2 One'\necho oops >&2\nexit 3\n", 3,
                "NEPHO_RESULT FAILURE bootstrap exited with status 3: NEPHO_PHASE 1/2 One oops "
            ),
        ] {
            let script = try VagrantHandoff.script(
                bootstrap: "#!/usr/bin/env bash\nset -eu\n" + body, provisionerName: "t.sh")
            let sandbox = home.root.appendingPathComponent("sandbox-\(status)").path
            let moved = script.replacingOccurrences(of: "/etc/nepho", with: sandbox + "/etc")
                .replacingOccurrences(of: "/var/log/", with: sandbox + "/")
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
            let result = try await ProcessRunner.run(
                "bash", ["-c", moved], environment: ["PATH": "/usr/bin:/bin", "GREETING": "hello"],
                timeout: 60)
            #expect(result.status == status)
            let lines = result.output.split(separator: "\n").map(String.init)
            #expect(lines.last == expected)
            if status == 0 { #expect(lines.contains("env: hello")) }
            #expect(FileManager.default.fileExists(atPath: sandbox + "/nepho-bootstrap.log"))
        }
        #expect(throws: VagrantEnvironmentError.self) {
            try VagrantHandoff.script(bootstrap: "echo\nNEPHO_BOOTSTRAP_END\n", provisionerName: "x.sh")
        }
    }
}

/// A temporary NEPHO_HOME with helpers to lay out Vagrant formations in it.
final class VagrantTestHome: @unchecked Sendable {
    let root: URL
    var paths: NephoPaths { NephoPaths(home: root, runtimeDirectory: root.appendingPathComponent("run")) }

    init() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-vagrant-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// The repository's mediawiki cloudlet, vagrant scenario.
    @discardableResult
    func mediawiki(formation: String, secret: String? = nil) throws -> VagrantEnvironment {
        let cloudlet = try Cloudlet.open(
            VagrantTranscripts.root.appendingPathComponent("cloudlets/mediawiki"))
        let scenario = try cloudlet.scenario("vagrant")
        let values = try ParameterResolver(
            template: [], cloudlet: cloudlet.manifest.parameters, scenario: scenario.parameters, user: [:],
            commandLine: secret.map { ["AdminPassword": $0] } ?? [:]
        ).resolve()
        return try VagrantEnvironmentWriter(paths: paths).write(
            formation: formation, cloudlet: cloudlet, scenario: scenario, values: values)
    }

    /// A cloudlet whose vagrant scenario has no Vagrantfile: nepho generates one.
    @discardableResult
    func generated(formation: String, secret: String = "x", overrides: [String: String] = [:]) throws
        -> VagrantEnvironment
    {
        let folder = root.appendingPathComponent("cloudlet-\(UUID().uuidString)")
        let files = [
            "cloudlet.yaml": "name: plain\nversion: 1.0.0\nsummary: a plain machine\n",
            "scenarios/default.yaml": """
            provider: vagrant
            provisioner: setup.sh
            parameters:
              VagrantProvider:
                default: ''
              Box: debian/bookworm64
              SSHPort: 2222
              CPUs: 1
              Memory: 512
              ForwardedPorts: 8081:80,2201:22
              SyncedFolder: site:/srv/site
              Greeting:
                default: it's a \\ test
              ApiToken:
                secret: true
                required: false

            """,
            "provisioners/setup.sh":
                "#!/usr/bin/env bash\nset -euo pipefail\necho 'NEPHO_PHASE 1/1 Saying hello'\necho \"$Greeting\"\n",
            "site/index.html": "hello\n",
        ]
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let cloudlet = try Cloudlet.open(folder)
        let scenario = try cloudlet.scenario("default")
        var commandLine = overrides
        commandLine["ApiToken"] = secret
        let values = try ParameterResolver(
            template: [], cloudlet: [], scenario: scenario.parameters, user: [:], commandLine: commandLine
        ).resolve()
        return try VagrantEnvironmentWriter(paths: paths).write(
            formation: formation, cloudlet: cloudlet, scenario: scenario, values: values)
    }

    func anyFileContains(_ text: String) -> Bool {
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            if let data = FileManager.default.contents(atPath: url.path),
                String(decoding: data, as: UTF8.self).contains(text)
            {
                return true
            }
        }
        return false
    }
}
