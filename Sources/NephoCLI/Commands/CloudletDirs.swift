import ArgumentParser
import NephoProtocol

extension Nepho {
    struct CloudletDirs: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:dirs",
            abstract: "List, add or remove cloudlet directories.",
            discussion: """
                $NEPHO_HOME/cloudlets is always searched first; directories added here follow, \
                in order, and are kept in $NEPHO_HOME/config.yaml under cloudlet_dirs.
                """)

        enum Action: String, ExpressibleByArgument, CaseIterable {
            case list, add, remove
        }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "list (default), add or remove.")
        var action: Action = .list
        @Argument(help: "The directory to add or remove.", completion: .directory)
        var path: String?

        func validate() throws {
            if action != .list && path == nil {
                throw ValidationError("cloudlet:dirs \(action.rawValue) needs a PATH")
            }
            if action == .list && path != nil { throw ValidationError("cloudlet:dirs list takes no PATH") }
        }

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let params = CloudletDirsParams(
                action: CloudletDirsParams.Action(rawValue: action.rawValue)!,
                path: path.map(CommandPath.absolute))
            let result = try await api.call(API.cloudletDirs, params)
            try renderer.emit(result) { out in
                for directory in result.directories {
                    var notes: [String] = []
                    if directory.isDefault { notes.append("default") }
                    if !directory.exists { notes.append("does not exist") }
                    out.line(
                        directory.path + (notes.isEmpty ? "" : out.dim(" (\(notes.joined(separator: ", ")))"))
                    )
                }
            }
        }
    }
}
