import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationWatch: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:watch",
            abstract: "Replay a formation's latest build, then follow it to its end.",
            discussion: """
                Exit status 0 when the build succeeds, 1 when it fails or rolls back, 130 after Ctrl-C \
                (the build goes on). With -o json: one JSON object per line (docs/formations.md).
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
        @Option(help: "A build id (default: the latest).") var build: Int64?

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let status = try await BuildWatcher(api: api, name: name, build: build, format: global.output)
                .run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
