import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletSearch: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:search",
            abstract: "Search the registries for cloudlets.",
            discussion: """
                Every word must occur in a cloudlet's name, summary, description or keywords. \
                Name matches come first, then summary matches, then the rest. Registries are \
                cached under $NEPHO_HOME/cache (see `nepho cloudlet:registry`).
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Words to look for; none lists every cloudlet.")
        var query: [String] = []

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(
                API.registrySearch,
                RegistrySearchParams(query: query.joined(separator: " ")))
            if renderer.format == .text {
                RegistryWarnings.print(result.warnings, renderer: renderer)
            }
            try renderer.emit(result) { out in
                for hit in result.hits { out.line("\(out.bold(hit.name)) - \(hit.summary)") }
            }
            if result.hits.isEmpty && renderer.format == .text {
                FileHandle.standardError.write(Data("No cloudlet matches \"\(result.query)\".\n".utf8))
            }
        }
    }
}

/// Registry warnings (an unreachable registry, an old cache) on standard error.
enum RegistryWarnings {
    static func print(_ warnings: [String], renderer: Renderer) {
        for warning in warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
    }
}
