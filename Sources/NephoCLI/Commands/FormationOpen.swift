import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationOpen: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:open",
            abstract:
                "Print and open a formation's address (the URL or WebsiteURL output; shortcut: nepho open).",
            aliases: ["open"])

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
        @Flag(help: "Only print the address.") var printOnly = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let access = try await api.call(API.formationAccess, FormationAccessParams(name: name))
            guard let url = access.url else {
                throw NephoError(.notFound, access.urlProblem ?? "formation \(name) has no address")
            }
            try renderer.emit(["url": url]) { out in out.line(url) }
            if !printOnly && global.output == .text && isatty(STDOUT_FILENO) == 1,
                let opener = ProcessRunner.resolve("xdg-open")
            {
                _ = try? await ProcessRunner.run(opener, [url], timeout: 10)
            }
        }
    }
}
