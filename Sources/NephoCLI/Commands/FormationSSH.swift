import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationSSH: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:ssh",
            abstract:
                "ssh to a formation (its SSHEndpoint, SSHUser and SSHPort outputs, or `vagrant ssh`; shortcut: nepho ssh)."
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation.") var name: String
        @Flag(help: "Only print the address.") var printOnly = false
        @Option(
            name: [.customShort("i"), .customLong("identity")], help: "ssh's -i: the private key to use.")
        var identity: String?
        @Option(
            name: [.customShort("F"), .customLong("ssh-config")], help: "ssh's -F: an ssh configuration file."
        )
        var sshConfig: String?
        @Argument(parsing: .postTerminator, help: "A command to run there (after --).") var command:
            [String] = []

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let detail = try await api.call(API.formationDescribe, FormationRef(name: name))
            if detail.sshRoute == .providerTool {
                try await VagrantSSH(detail: detail, command: command).run(
                    printOnly: printOnly || global.output != .text, renderer: renderer)
                return
            }
            let names = await ScenarioOutputs.names(api: api, detail: detail)
            let endpointKey = names["ssh_endpoint"] ?? "SSHEndpoint"
            guard let endpoint = detail.outputs[endpointKey] else {
                throw NephoError(
                    .notFound, "formation \(name) has no SSH endpoint (no \(endpointKey) output)")
            }
            let user = detail.outputs[names["ssh_user"] ?? "SSHUser"]
            let address = user.map { "\($0)@\(endpoint)" } ?? endpoint
            // A port other than 22 (SSHPort, or the output the scenario's outputs.ssh_port names).
            let port = detail.outputs[names["ssh_port"] ?? "SSHPort"].flatMap { UInt16($0) }
            var options: [String] = port.map { ["-p", String($0)] } ?? []
            if let sshConfig { options += ["-F", sshConfig] }
            if let identity { options += ["-i", identity] }
            FileHandle.standardError.write(Data("ssh \((options + [address]).joined(separator: " "))\n".utf8))
            if printOnly || global.output != .text {
                var printed = ["address": address]
                if let port { printed["port"] = String(port) }
                try renderer.emit(printed) { out in out.line(port.map { "\(address) -p \($0)" } ?? address) }
                return
            }
            guard let ssh = ScenarioOutputs.which("ssh") else {
                throw NephoError(.notFound, "ssh is not installed; the address is \(address)")
            }
            let arguments = [ssh] + options + [address] + command
            let argv = arguments.map { strdup($0) } + [nil]
            execv(ssh, argv)
            throw NephoError(.internalError, "cannot run ssh: \(SystemError.errnoText())")
        }
    }
}
