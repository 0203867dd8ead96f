import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationCancel: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:cancel",
            abstract:
                "Cancel an update in progress (it rolls back), or delete a create in progress after asking.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
        @Flag(help: "Do not ask before deleting a create in progress.") var yes = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let detail = try await api.call(API.formationDescribe, FormationRef(name: name))
            if let last = detail.builds.last, last.finishedAt == nil, last.operation == "create" {
                guard try Confirmation.ask("\(name) is being created: delete it?", yes: yes) else {
                    BuildWatcher.say("nothing cancelled")
                    return
                }
            }
            let build = try await api.call(API.formationCancel, FormationActionParams(name: name))
            try renderer.emit(build) { out in
                out.line(
                    "\(name): \(build.operation == "update" ? "update cancelled; it rolls back" : "deleting") (build \(build.id))"
                )
                out.line("watch it with: nepho formation:watch \(name)")
            }
        }
    }
}
