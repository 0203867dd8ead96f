import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletDescribe: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:describe",
            abstract: "Show a cloudlet's metadata and scenarios.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cloudlet's name.", completion: .custom(Completions.cloudlets))
        var name: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let detail = try await api.call(API.cloudletDescribe, CloudletRef(name: name))
            try renderer.emit(detail) { out in
                out.fields([
                    ("Name", detail.name),
                    ("Version", detail.version),
                    ("Summary", detail.summary),
                    ("Description", detail.description?.trimmingCharacters(in: .whitespacesAndNewlines)),
                    ("Author", detail.author),
                    ("License", detail.license),
                    ("Keywords", detail.keywords.joined(separator: ", ")),
                    ("Project URL", detail.projectPage),
                    ("Repository", detail.repository),
                    ("Path", detail.path),
                    ("Versions", detail.versions?.joined(separator: ", ")),
                ])
                if !detail.scenarios.isEmpty {
                    out.line("Scenarios:")
                    out.table(detail.scenarios.map { [$0.name, $0.summary ?? ""] }, indent: "  ")
                }
            }
        }
    }
}
