import Foundation
import NephoEngine
import NephoProtocol
import NephoSupport

/// `formation:ssh` of a vagrant formation, in the user's own process: `vagrant ssh
/// [-- COMMAND]` in the formation's folder (the terminal is handed over to it), or, with
/// `--print-only`, the address `vagrant ssh-config` gives. `NEPHO_VAGRANT` names another
/// vagrant program (a test hook, docs/vagrant.md).
struct VagrantSSH {
    var detail: FormationDetail
    var command: [String]

    func run(printOnly: Bool, renderer: Renderer) async throws {
        let folder = URL(
            fileURLWithPath: detail.outputs["Folder"]
                ?? VagrantEnvironment.folder(paths: NephoPaths(), formation: detail.name).path)
        let environment: VagrantEnvironment
        do {
            environment = try VagrantEnvironment.open(folder)
        } catch {
            throw NephoError(.notFound, "formation \(detail.name) has no Vagrant folder: \(error)")
        }
        let base = ProcessInfo.processInfo.environment
        if printOnly {
            let runner = VagrantRunner(
                environment: environment, baseEnvironment: base,
                executable: base["NEPHO_VAGRANT"] ?? "vagrant")
            let configs: [VagrantSSHConfig]
            do {
                configs = try await runner.sshConfig()
            } catch let problem as VagrantProblem {
                throw problem.nephoError
            }
            guard let config = configs.first else {
                throw NephoError(
                    .notFound, "vagrant gives no SSH address for \(detail.name): is its machine running?")
            }
            FileHandle.standardError.write(Data("ssh \(config.sshArguments.joined(separator: " "))\n".utf8))
            try renderer.emit(["address": config.address]) { out in out.line(config.address) }
            return
        }
        let invocation: (path: String, arguments: [String], environment: [String: String])
        do {
            invocation = try environment.sshInvocation(command: command, base: base)
        } catch let problem as VagrantProblem {
            throw problem.nephoError
        }
        guard FileManager.default.changeCurrentDirectoryPath(folder.path) else {
            throw NephoError(.notFound, "cannot enter \(folder.path)")
        }
        let argv = ([invocation.path] + invocation.arguments).map { strdup($0) } + [nil]
        let envp = invocation.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(invocation.path, argv, envp)
        throw NephoError(.internalError, "cannot run vagrant: \(SystemError.errnoText())")
    }
}
