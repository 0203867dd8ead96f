import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletRegistry: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:registry",
            abstract: "List, add, remove or refresh cloudlet registries.",
            discussion: """
                Registries are kept in $NEPHO_HOME/config.yaml under registries:, searched in \
                order; the first is the default. `update` downloads every index (or URL's) now.
                """)

        enum Action: String, ExpressibleByArgument, CaseIterable {
            case list, add, remove, update
        }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "list (default), add, remove or update.")
        var action: Action = .list
        @Argument(help: "The registry's URL (https://…/index.json, file:///…, or a path).")
        var url: String?

        func validate() throws {
            if (action == .add || action == .remove) && url == nil {
                throw ValidationError("cloudlet:registry \(action.rawValue) needs a URL")
            }
            if action == .list && url != nil { throw ValidationError("cloudlet:registry list takes no URL") }
        }

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            var location = url
            if let url, !url.contains("://"), !url.hasPrefix("/") { location = CommandPath.absolute(url) }
            let result = try await api.call(
                API.registryManage,
                RegistryManageParams(
                    action: RegistryManageParams.Action(rawValue: action.rawValue)!, url: location))
            try renderer.emit(result) { out in
                if result.registries.isEmpty {
                    out.line("No registries: add one with `nepho cloudlet:registry add URL`.")
                }
                for registry in result.registries {
                    var notes: [String] = []
                    if registry.isDefault { notes.append("default") }
                    if let count = registry.cloudlets {
                        notes.append("\(count) cloudlet\(count == 1 ? "" : "s")")
                    }
                    if let fetched = registry.fetchedAt { notes.append("fetched \(fetched)") }
                    if let status = registry.status { notes.append(status) }
                    out.line(
                        registry.url + (notes.isEmpty ? "" : out.dim(" (\(notes.joined(separator: ", ")))")))
                    if let warning = registry.warning { out.line("  " + out.yellow("warning: ") + warning) }
                }
            }
            if result.registries.contains(where: { $0.status == "failed" }) { throw ExitCode(1) }
        }
    }
}
