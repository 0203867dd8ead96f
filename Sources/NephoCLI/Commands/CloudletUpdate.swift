import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletUpdate: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:update",
            abstract: "Update installed cloudlets from git (fast-forward only).",
            discussion: """
                A cloudlet installed at a version tag moves to the newest tag; one on a branch \
                fast-forwards to its upstream. Local changes stop the update unless --force.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cloudlet to update; all installed cloudlets when omitted.")
        var name: String?
        @Flag(help: "Overwrite local changes to the cloudlet's tracked files.")
        var force = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(
                API.cloudletUpdate, CloudletUpdateParams(name: name, force: force))
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
                    switch outcome.status {
                    case .updated: out.line("\(outcome.name): \(old) → \(new)")
                    case .current: out.line("\(outcome.name): up to date (\(old))")
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
