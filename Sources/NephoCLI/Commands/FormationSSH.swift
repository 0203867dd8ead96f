import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationSSH: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:ssh",
            abstract:
                "ssh to a formation (its SSHEndpoint, SSHUser and SSHPort outputs, or `vagrant ssh`; shortcut: nepho ssh).",
            aliases: ["ssh"])

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
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

        /// Asks the formation's provider how to reach it (`formation.access`), then hands
        /// this terminal over (exec) to ssh, or to the provider's own tool (`vagrant ssh`).
        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let addressOnly = printOnly || global.output != .text
            let access = try await api.call(
                API.formationAccess,
                FormationAccessParams(name: name, command: command, addressOnly: addressOnly))
            guard let ssh = access.ssh else {
                throw NephoError(.notFound, access.sshProblem ?? "formation \(name) has no SSH endpoint")
            }
            if let tool = ssh.tool, !addressOnly { try Self.exec(tool) }
            var options: [String] = ssh.port.map { ["-p", String($0)] } ?? []
            options += ssh.options
            if let sshConfig { options += ["-F", sshConfig] }
            if let identity { options += ["-i", identity] }
            FileHandle.standardError.write(
                Data("ssh \((options + [ssh.address]).joined(separator: " "))\n".utf8))
            if addressOnly {
                var printed = ["address": ssh.address]
                if let port = ssh.port { printed["port"] = String(port) }
                try renderer.emit(printed) { out in
                    out.line(ssh.port.map { "\(ssh.address) -p \($0)" } ?? ssh.address)
                }
                return
            }
            guard let program = ProcessRunner.resolve("ssh") else {
                throw NephoError(.notFound, "ssh is not installed; the address is \(ssh.address)")
            }
            try Self.exec(
                SSHTool(
                    path: program, arguments: options + [ssh.address] + command, environment: [:], unset: [],
                    directory: FileManager.default.currentDirectoryPath))
        }

        /// Replaces this process with `tool`, in its folder, with this process's environment
        /// and the tool's variables over it.
        static func exec(_ tool: SSHTool) throws -> Never {
            var environment = ProcessInfo.processInfo.environment
            for name in tool.unset { environment[name] = nil }
            environment.merge(tool.environment) { $1 }
            guard FileManager.default.changeCurrentDirectoryPath(tool.directory) else {
                throw NephoError(.notFound, "cannot enter \(tool.directory)")
            }
            let argv = ([tool.path] + tool.arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            execve(tool.path, argv, envp)
            throw NephoError(
                .internalError,
                "cannot run \((tool.path as NSString).lastPathComponent): \(SystemError.errnoText())")
        }
    }
}
