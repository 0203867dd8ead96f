import ArgumentParser
import NephoProtocol

extension Nepho {
    struct CloudletList: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:list",
            abstract: "List installed cloudlets in every cloudlet directory.")

        @OptionGroup var global: GlobalOptions

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(API.cloudletList, NoParams())
            try renderer.emit(result) { out in
                for directory in result.directories {
                    out.line(
                        out.bold(directory.path) + (directory.exists ? "" : out.dim(" (does not exist)")))
                    if directory.cloudlets.isEmpty {
                        out.line("└── " + out.dim("(no cloudlets)"))
                    }
                    for (index, cloudlet) in directory.cloudlets.enumerated() {
                        let branch = index == directory.cloudlets.count - 1 ? "└── " : "├── "
                        var entry = cloudlet.name
                        if let version = cloudlet.version {
                            entry += " (v\(version.hasPrefix("v") ? String(version.dropFirst()) : version))"
                        }
                        if let problem = cloudlet.problem {
                            entry += " " + out.red("[broken: \(problem)]")
                        } else if cloudlet.shadowedBy != nil {
                            entry += " " + out.yellow("[duplicate, hidden]")
                        }
                        out.line(branch + entry)
                    }
                }
                for warning in result.warnings { out.line(out.yellow("warning: ") + warning) }
            }
        }
    }
}
