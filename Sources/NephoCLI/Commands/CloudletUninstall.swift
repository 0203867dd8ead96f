import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletUninstall: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:uninstall",
            abstract: "Remove an installed cloudlet's folder.",
            discussion: "Asks first (listing uncommitted changes that would be lost) unless --force.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cloudlet's name.", completion: .custom(Completions.cloudlets))
        var name: String
        @Flag(help: "Remove without asking.")
        var force = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            if !force {
                let plan = try await api.call(
                    API.cloudletUninstall, CloudletUninstallParams(name: name, dryRun: true))
                guard isatty(STDIN_FILENO) == 1 else {
                    throw NephoError(
                        .invalidInput,
                        "cloudlet:uninstall asks before removing \(plan.path), and there is no terminal to ask: use --force"
                    )
                }
                var question = "Remove \(plan.name) (\(plan.path))?"
                if !plan.localChanges.isEmpty {
                    question +=
                        "\nIt has uncommitted changes that will be lost:\n"
                        + plan.localChanges.prefix(10).map { "  " + $0 }.joined(separator: "\n") + "\n"
                }
                FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
                let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
                guard answer == "y" || answer == "yes" else {
                    FileHandle.standardError.write(Data("Not removed.\n".utf8))
                    throw ExitCode(1)
                }
            }
            let result = try await api.call(
                API.cloudletUninstall, CloudletUninstallParams(name: name, dryRun: false))
            try renderer.emit(result) { out in
                out.line("Removed \(result.name) (\(result.path))")
            }
        }
    }
}
