import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletInstall: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:install",
            abstract: "Install a cloudlet from a registry, a git URL or a local repository.",
            discussion: """
                SOURCE is a registry name (owner/name, or owner/name@VERSION for a tagged version), \
                a git URL (https://…, ssh://…, user@host:path) or a repository path (start a \
                relative path with ./). The cloudlet is cloned to a temporary folder, validated, \
                and only then moved into place.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(
            help: "owner/name[@VERSION], a git URL, or a repository path.",
            completion: .custom(Completions.registryCloudlets))
        var source: String
        @Option(help: "The folder name to install under (default: owner-name).")
        var name: String?
        @Option(
            help: "The cloudlet directory to install into (default: $NEPHO_HOME/cloudlets).",
            completion: .directory)
        var dir: String?

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            // On a terminal the notices and git's progress show as they come (docs/registry.md).
            let live = LiveProgress.wanted(renderer.format)
            let params = CloudletInstallParams(
                source: Self.resolve(source), folderName: name, directory: dir.map(CommandPath.absolute),
                progress: live ? true : nil)
            let (result, shown) = try await LiveProgress.showing(live) {
                try await api.call(API.cloudletInstall, params)
            }
            if renderer.format == .text { RegistryWarnings.print(result.warnings, renderer: renderer) }
            try renderer.emit(result) { out in
                if !shown {
                    for notice in result.notices { out.line("Notice: \(notice)") }
                }
                out.line(result.directory)
                out.line("└── \(result.name)" + (result.version.map { " (\(VersionLabel.show($0)))" } ?? ""))
            }
        }

        /// Local paths become absolute (the daemon has another working folder): those
        /// starting with `./`, `../` or `~`, and any folder here holding a repository or a
        /// cloudlet (so `my-cloudlet` works; a registry name never names such a folder).
        static func resolve(_ source: String) -> String {
            if source.hasPrefix("./") || source.hasPrefix("../") || source.hasPrefix("~") || source == "." {
                return CommandPath.absolute(source)
            }
            if !source.hasPrefix("/"), !source.contains("://"), !source.contains("@") {
                let folder = URL(fileURLWithPath: CommandPath.absolute(source))
                let marks = [".git", "cloudlet.yaml"].map { folder.appendingPathComponent($0).path }
                if marks.contains(where: { FileManager.default.fileExists(atPath: $0) }) {
                    return folder.path
                }
            }
            return source
        }
    }
}

/// Versions as the roadmap prints them: `v0.7.2`.
enum VersionLabel {
    static func show(_ version: String) -> String { version.hasPrefix("v") ? version : "v" + version }
}
