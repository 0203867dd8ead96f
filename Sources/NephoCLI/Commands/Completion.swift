import ArgumentParser
import NephoClient
import NephoProtocol

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

/// Completion candidates: the installed cloudlets and their scenarios, asked of nephod
/// (`cloudlet.list`, `scenario.list`) as any command asks, so that they are the ones the
/// daemon builds from. A blocking client: completion functions are synchronous. No daemon
/// to be had: no candidates.
enum Completions {
    @Sendable static func cloudlets(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        installed(DaemonClient()).filter { $0.hasPrefix(prefix) }
    }

    @Sendable static func scenarios(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        let client = DaemonClient()
        return installed(client).flatMap { name -> [String] in
            // Only the cloudlets the prefix may still name are asked for their scenarios.
            guard name.hasPrefix(prefix) || prefix.hasPrefix(name + "/") else { return [] }
            let scenarios = (try? client.request(API.scenarioList, CloudletRef(name: name)))?.scenarios ?? []
            return [name] + scenarios.map { "\(name)/\($0.name)" }
        }.filter { $0.hasPrefix(prefix) }
    }

    /// The names of the usable, unshadowed installed cloudlets.
    private static func installed(_ client: DaemonClient) -> [String] {
        let listing = try? client.request(API.cloudletList, NoParams())
        return (listing?.directories ?? []).flatMap(\.cloudlets).filter {
            $0.shadowedBy == nil && $0.problem == nil
        }
        .map(\.name)
    }
}
