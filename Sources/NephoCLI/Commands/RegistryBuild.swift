import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct RegistryBuild: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "registry:build",
            abstract: "Build a registry (index.json and a browsable index.html) from cloudlets.",
            discussion: """
                SOURCES are cloudlet repositories: local folders or git URLs. Each is validated; \
                its git tags are its versions. Publish DIR with any static web server and add \
                its index.json with `nepho cloudlet:registry add URL` (see docs/registry.md).
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Cloudlet repositories: folders or git URLs.")
        var sources: [String]
        @Option(help: "The folder to write index.json and index.html into.", completion: .directory)
        var out: String
        @Option(help: "The page's title.")
        var title: String?

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let resolved = sources.map { source in
                source.contains("://") || source.contains("@") ? source : CommandPath.absolute(source)
            }
            let result = try await api.call(
                API.registryBuild,
                RegistryBuildParams(sources: resolved, output: CommandPath.absolute(out), title: title))
            if renderer.format == .text { RegistryWarnings.print(result.warnings, renderer: renderer) }
            try renderer.emit(result) { out in
                out.line(
                    "Wrote \(result.index) and \(result.page) with \(result.cloudlets.count) cloudlet\(result.cloudlets.count == 1 ? "" : "s"):"
                )
                for (index, name) in result.cloudlets.enumerated() {
                    out.line((index == result.cloudlets.count - 1 ? "└── " : "├── ") + name)
                }
            }
        }
    }
}
