import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationLogs: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:logs",
            abstract: "Print the stored event log of every build of a formation.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let logs = try await api.call(API.formationLogs, FormationRef(name: name))
            try renderer.emit(logs) { out in
                for log in logs.builds {
                    out.line(out.bold("build \(log.build.id): \(log.build.operation) \(log.build.status)"))
                    for event in log.events {
                        out.line("  \(event.sequence). " + BuildWatcher.line(event.event))
                    }
                }
            }
        }
    }
}
