import Foundation
import Testing

@testable import NephoEngine

/// The machine-readable parser over transcripts of `vagrant up`, `provision`, `halt` and
/// `destroy`. No virtual machine can run here: the transcripts of successful runs were
/// written through Vagrant's own UI classes (Fixtures/vagrant/README.md), those of
/// failures without a provider were printed by the real vagrant.
@Suite struct VagrantOutputParserTests {
    @Test func splitsFieldsAndUndoesVagrantsEscapes() throws {
        let line = try #require(
            VagrantMachineReadableLine.parse(
                "1795924800,default,ui,detail,    default: a%!(VAGRANT_COMMA) b\\nc\\rd"))
        #expect(line.timestamp == 1_795_924_800)
        #expect(line.target == "default")
        #expect(line.type == "ui")
        #expect(line.data == ["detail", "    default: a, b\nc\rd"])
        #expect(line.rendered == "1795924800,default,ui,detail,    default: a%!(VAGRANT_COMMA) b\\nc\\rd")
        let empty = try #require(VagrantMachineReadableLine.parse("1795924800,,ui,info,"))
        #expect(empty.target == "" && empty.data == ["info", ""])
        #expect(
            VagrantMachineReadableLine.parse("Vagrant failed to initialize at a very early stage:") == nil)
        #expect(VagrantMachineReadableLine.parse("abc,default,ui") == nil)
    }

    @Test func phaseLinesFollowTheProvisionerContract() {
        #expect(
            ProvisionerPhase(line: "NEPHO_PHASE 2/6 Installing Apache, PHP")
                == ProvisionerPhase(number: 2, total: 6, text: "Installing Apache, PHP"))
        for bad in [
            "NEPHO_PHASE 0/6 x", "NEPHO_PHASE 7/6 x", "NEPHO_PHASE 1/6", "NEPHO_PHASE 1/6 ",
            "NEPHO_PHASE a/6 x", "PHASE 1/2 x",
        ] {
            #expect(ProvisionerPhase(line: bad) == nil, "\(bad)")
        }
    }

    @Test func upWithTheProvisionerSucceeding() throws {
        var parser = VagrantOutputParser()
        parser.feed(transcript: VagrantTranscripts.text("up-success.txt"))
        let kinds = parser.events.map(\.kind)
        #expect(kinds.first == .metadata(key: "provider", value: "virtualbox"))
        #expect(
            kinds.contains(
                .message(level: .info, text: "Bringing machine 'default' up with 'virtualbox' provider...")))
        #expect(kinds.contains(.action(name: "up", phase: .start)))
        #expect(
            kinds.contains(.message(level: .info, text: "Importing base box 'bento/amazonlinux-2023'...")))
        // A multi-line detail: every line's prefix removed, the escaped newlines restored.
        #expect(
            kinds.contains(
                .message(
                    level: .detail,
                    text:
                        "\nVagrant insecure key detected. Vagrant will automatically replace\nthis with a newly generated keypair for better security."
                )))
        #expect(
            kinds.contains(
                .message(level: .detail, text: "Running: /tmp/vagrant-shell20261129-41877-1q9z8kd.sh")))
        let phases = parser.events.compactMap { event -> ProvisionerPhase? in
            if case .phase(let phase) = event.kind { return phase }
            return nil
        }
        #expect(phases.map(\.number) == [1, 2, 3, 4, 5, 6])
        #expect(phases.allSatisfy { $0.total == 6 })
        #expect(phases[1].text == "Installing Apache, PHP and tools")
        let output = parser.events.compactMap { event -> String? in
            if case .provisionerOutput(let text) = event.kind { return text }
            return nil
        }
        #expect(output.contains("mediawiki-1.43.1.tar.gz   50%\r100%"))
        #expect(output.contains(""))
        #expect(
            output.contains("Installed: httpd-2.4.62-1.amzn2023.x86_64, php8.3-8.3.10-1.amzn2023.0.1.x86_64"))
        #expect(!output.contains { $0.hasPrefix("Running: ") })
        #expect(kinds.last == .state(.running))
        #expect(parser.events.allSatisfy { $0.timestamp >= 1_795_924_800 })
        let summary = parser.summary(exitStatus: 0)
        #expect(summary.succeeded)
        #expect(summary.state == .running)
        #expect(summary.lastPhase?.number == 6)
        #expect(summary.provisionerSucceeded == true)
        #expect(parser.unparsedLines.isEmpty)
    }

    @Test func upWhoseProvisionerFailsIsAnErrorExitWithItsPhase() throws {
        var parser = VagrantOutputParser()
        parser.feed(transcript: VagrantTranscripts.text("up-provisioner-fails.txt"))
        let summary = parser.summary(exitStatus: 1)
        #expect(!summary.succeeded)
        #expect(
            summary.lastPhase
                == ProvisionerPhase(number: 3, total: 6, text: "Installing and securing MariaDB"))
        #expect(summary.provisionerSucceeded == false)
        #expect(summary.state == nil)  // the up action never ended
        let failure = try #require(summary.failure)
        #expect(failure.errorClass == "Vagrant::Errors::VagrantError")
        #expect(
            failure.message.hasPrefix(
                "The SSH command responded with a non-zero exit status. Vagrant\nassumes"))
        let problem = VagrantProblem.explain(failure, folder: "/f")
        #expect(problem.kind == .provisionerFailed)
        #expect(
            parser.events.map(\.kind).contains(
                .provisionerOutput(
                    "See \"systemctl status mariadb.service\" and \"journalctl -xeu mariadb.service\" for details."
                )))
        #expect(!parser.events.map(\.kind).contains(.action(name: "up", phase: .end)))
    }

    @Test func provisionHaltAndDestroy() {
        var provision = VagrantOutputParser()
        provision.feed(transcript: VagrantTranscripts.text("provision.txt"))
        #expect(provision.summary(exitStatus: 0).succeeded)
        #expect(provision.lastPhase?.number == 6)
        #expect(provision.events.map(\.kind).suffix(1) == [.action(name: "provision", phase: .end)])

        var halt = VagrantOutputParser()
        halt.feed(transcript: VagrantTranscripts.text("halt.txt"))
        #expect(
            halt.events.map(\.kind).contains(
                .message(level: .output, text: "Attempting graceful shutdown of VM...")))
        #expect(halt.summary(exitStatus: 0).state == .poweroff)

        var destroy = VagrantOutputParser()
        destroy.feed(transcript: VagrantTranscripts.text("destroy.txt"))
        #expect(
            destroy.events.map(\.kind) == [
                .metadata(key: "provider", value: "virtualbox"), .action(name: "destroy", phase: .start),
                .message(level: .info, text: "Forcing shutdown of VM..."),
                .message(level: .info, text: "Destroying VM and associated drives..."),
                .action(name: "destroy", phase: .end), .state(.notCreated),
            ])
        #expect(destroy.summary(exitStatus: 0).state == .notCreated)
    }

    /// Printed by the real vagrant on this machine, which has no provider.
    @Test func noProviderFromRealVagrantOutput() throws {
        var parser = VagrantOutputParser()
        parser.feed(transcript: VagrantTranscripts.text("up-no-provider.txt"))
        let failure = try #require(parser.failure)
        #expect(failure.errorClass == "Vagrant::Errors::NoDefaultProvider")
        #expect(failure.message.contains("Examples are VirtualBox, VMware, Hyper-V."))
        let problem = VagrantProblem.explain(failure)
        #expect(problem.kind == .noUsableProvider)
        #expect(problem.remedy.contains("VirtualBox") && problem.remedy.contains("libvirt"))
    }

    /// Printed by the real vagrant with a stand-in VBoxManage, the box not installed.
    @Test func missingBoxFromRealVagrantOutput() throws {
        var parser = VagrantOutputParser()
        parser.feed(transcript: VagrantTranscripts.text("up-box-missing.txt"))
        #expect(
            parser.events.map(\.kind).contains(
                .message(
                    level: .output,
                    text: "Box 'bento/amazonlinux-2023' could not be found. Attempting to find and install..."
                )))
        let problem = VagrantProblem.explain(try #require(parser.failure))
        #expect(problem.kind == .boxMissing)
        #expect(problem.message.contains("bento/amazonlinux-2023"))
        #expect(problem.remedy.contains("vagrant box add bento/amazonlinux-2023"))
    }

    @Test func invalidConfigurationFromRealVagrantOutput() throws {
        var parser = VagrantOutputParser()
        parser.feed(transcript: VagrantTranscripts.text("validate-config-invalid.txt"))
        let problem = VagrantProblem.explain(try #require(parser.failure))
        #expect(problem.kind == .invalidVagrantfile)
        #expect(
            problem.vagrantMessage?.contains("* Box value for guest 'default' is an empty string.") == true)
    }

    @Test func statusAndSSHConfig() throws {
        let statuses = VagrantMachineStatus.parse(VagrantTranscripts.text("status-not-created.txt"))
        #expect(statuses.count == 1)
        let status = try #require(statuses.first)
        #expect(status.name == "default" && status.provider == "virtualbox" && status.state == .notCreated)
        #expect(status.summary == "not created")
        #expect(
            status.explanation?.contains("If a machine is not created, only the\ndefault provider") == true)
        #expect(VagrantMachineStatus.parse(VagrantTranscripts.text("status-no-provider.txt")).isEmpty)

        let configs = VagrantSSHConfig.parse(VagrantTranscripts.text("ssh-config.txt"))
        let config = try #require(configs.first)
        #expect(configs.count == 1)
        #expect(config.host == "default" && config.hostName == "127.0.0.1" && config.user == "vagrant")
        #expect(config.port == 2222)
        #expect(
            config.identityFiles == [
                "/home/ada/.nepho/formations/wiki/.vagrant/machines/default/virtualbox/private_key"
            ])
        #expect(config.address == "vagrant@127.0.0.1 -p 2222")
        #expect(config.sshArguments.first == "-p" && config.sshArguments.last == "vagrant@127.0.0.1")
        // The machine-readable form carries the same text, escaped.
        let escaped =
            "1795925100,default,ssh-config,"
            + VagrantMachineReadableLine.escape(VagrantTranscripts.text("ssh-config.txt"))
        #expect(VagrantSSHConfig.parse(escaped + "\n" + VagrantTranscripts.text("ssh-config.txt")) == configs)
    }
}
