import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationDestroy: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:destroy",
            abstract: "Delete a formation's stack and watch it go (shortcut: nepho destroy).",
            aliases: ["destroy"])

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
        @Flag(help: "Do not ask.") var yes = false
        @Flag(help: "Start the deletion and return without watching it.") var detach = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            guard try Confirmation.ask("Destroy formation \(name) and every resource in it?", yes: yes) else {
                BuildWatcher.say("nothing destroyed")
                return
            }
            let build = try await api.call(API.formationDestroy, FormationActionParams(name: name))
            if detach {
                try renderer.emit(build) { out in
                    out.line("\(name): destroying (build \(build.id))")
                    out.line("watch it with: nepho formation:watch \(name)")
                }
                return
            }
            renderer.streamItem(BuildWatcher.WatchStart(formation: name, build: build))
            let status = try await BuildWatcher(api: api, name: name, build: build.id, format: global.output)
                .run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
