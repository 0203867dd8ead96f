import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletCreate: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:create",
            abstract: "Create a new cloudlet that passes validation, ready to edit.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The new cloudlet's name (lower-case; owner/name allowed).")
        var name: String
        @Option(help: "Folder to create it in (default: $NEPHO_HOME/cloudlets).", completion: .directory)
        var dir: String?

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let directory = dir.map { CommandPath.absolute($0) }
            let result = try await api.call(
                API.cloudletCreate, CloudletCreateParams(name: name, directory: directory))
            try renderer.emit(result) { out in
                out.line("Created cloudlet \(result.name) in \(result.path):")
                for (index, file) in result.files.enumerated() {
                    out.line((index == result.files.count - 1 ? "└── " : "├── ") + file)
                }
                out.line("Check it with: nepho cloudlet:validate \(result.path)")
            }
        }
    }
}

/// Paths typed by the user are relative to the client's folder, not the daemon's.
enum CommandPath {
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(expanded).standardizedFileURL.path
    }

    /// `path` relative to the current folder when it is inside it, for shorter messages.
    static func display(_ path: String) -> String {
        let here = FileManager.default.currentDirectoryPath
        let prefix = here.hasSuffix("/") ? here : here + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
