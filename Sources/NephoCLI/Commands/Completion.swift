import ArgumentParser
import NephoEngine
import NephoSupport

extension Nepho {
    struct Completion: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "completion",
            abstract: "Print a shell completion script (bash, zsh or fish).",
            discussion: """
                bash: nepho completion bash > /etc/bash_completion.d/nepho
                zsh:  nepho completion zsh > "${fpath[1]}/_nepho"
                fish: nepho completion fish > ~/.config/fish/completions/nepho.fish
                Cloudlet and scenario names complete from the installed cloudlets.
                """)

        @Argument(help: "bash, zsh or fish.")
        var shell: String

        func validate() throws {
            guard CompletionShell(rawValue: shell) != nil else {
                throw ValidationError("unknown shell \"\(shell)\": choose bash, zsh or fish")
            }
        }

        func run() throws {
            var script = Nepho.completionScript(for: CompletionShell(rawValue: shell)!)
            if shell == "bash" {
                // bash splits words at ":" by default, which would cut `cloudlet:list` in two.
                script += "\nCOMP_WORDBREAKS=${COMP_WORDBREAKS//:}\n"
            }
            print(script, terminator: "")
        }
    }
}

/// Completion candidates read from the installed cloudlets.
enum Completions {
    @Sendable static func cloudlets(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        LocalAPI(paths: NephoPaths()).installedCloudlets().map(\.name).filter { $0.hasPrefix(prefix) }
    }

    @Sendable static func scenarios(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        LocalAPI(paths: NephoPaths()).installedCloudlets()
            .flatMap { cloudlet in [cloudlet.name] + cloudlet.scenarios.map { "\(cloudlet.name)/\($0)" } }
            .filter { $0.hasPrefix(prefix) }
    }
}
