import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletUpdate: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:update",
            abstract: "Update installed cloudlets from git (fast-forward only).",
            discussion: """
                A cloudlet installed at a version tag moves to the newest tag, except one installed \
                at a version asked for (owner/name@VERSION), which stays unless --latest; one on a \
                branch fast-forwards to its upstream. Local changes stop the update unless --force.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(
            help: "The cloudlet to update; all installed cloudlets when omitted.",
            completion: .custom(Completions.cloudlets))
        var name: String?
        @Flag(help: "Overwrite local changes to the cloudlet's tracked files.")
        var force = false
        @Flag(help: "Also move cloudlets installed at a pinned version (owner/name@VERSION) to the newest.")
        var latest = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            // On a terminal git's fetch progress shows as it comes (docs/registry.md).
            let live = LiveProgress.wanted(renderer.format)
            let params = CloudletUpdateParams(
                name: name, force: force, latest: latest ? true : nil, progress: live ? true : nil)
            let (result, _) = try await LiveProgress.showing(live) {
                try await api.call(API.cloudletUpdate, params)
            }
            try renderer.emit(result) { out in
                for outcome in result.outcomes {
                    let old =
                        outcome.oldVersion.map(VersionLabel.show) ?? outcome.oldCommit.map {
                            String($0.prefix(8))
                        } ?? "?"
                    let new =
                        outcome.newVersion.map(VersionLabel.show) ?? outcome.newCommit.map {
                            String($0.prefix(8))
                        } ?? "?"
                    let commits = [outcome.oldCommit, outcome.newCommit].map {
                        $0.map { String($0.prefix(8)) } ?? "?"
                    }
                    switch outcome.status {
                    case .updated where old == new:
                        // A branch checkout whose version did not change: the commits say what moved.
                        out.line("\(outcome.name): \(old) (\(commits[0]) → \(commits[1]))")
                    case .updated: out.line("\(outcome.name): \(old) → \(new)")
                    case .current:
                        if let message = outcome.message {
                            out.line("\(outcome.name): kept at \(old): \(message)")
                        } else {
                            out.line("\(outcome.name): up to date (\(old))")
                        }
                    case .skipped:
                        out.line("\(outcome.name): " + out.yellow("skipped: ") + (outcome.message ?? ""))
                    case .failed:
                        out.line("\(outcome.name): " + out.red("not updated: ") + (outcome.message ?? ""))
                    }
                }
                if result.outcomes.isEmpty { out.line("No cloudlets are installed.") }
            }
            if result.outcomes.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
        }
    }
}
