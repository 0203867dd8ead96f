import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationSSH: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:ssh",
            abstract:
                "ssh to a formation (its SSHEndpoint and SSHUser outputs, or `vagrant ssh`; shortcut: nepho ssh)."
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation.") var name: String
        @Flag(help: "Only print the address.") var printOnly = false
        @Argument(parsing: .postTerminator, help: "A command to run there (after --).") var command:
            [String] = []

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let detail = try await api.formationDescribe(FormationRef(name: name))
            if detail.provider == "vagrant" {
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
            FileHandle.standardError.write(Data("ssh \(address)\n".utf8))
            if printOnly || global.output != .text {
                try renderer.emit(["address": address]) { out in out.line(address) }
                return
            }
            guard let ssh = ScenarioOutputs.which("ssh") else {
                throw NephoError(.notFound, "ssh is not installed; the address is \(address)")
            }
            let arguments = [ssh, address] + command
            let argv = arguments.map { strdup($0) } + [nil]
            execv(ssh, argv)
            throw NephoError(.internalError, "cannot run ssh: \(SystemError.errnoText())")
        }
    }
}
