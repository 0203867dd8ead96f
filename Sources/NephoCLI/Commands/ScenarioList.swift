import ArgumentParser
import NephoProtocol

extension Nepho {
    struct ScenarioList: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "scenario:list",
            abstract: "List a cloudlet's scenarios with their summaries.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cloudlet's name.", completion: .custom(Completions.cloudlets))
        var cloudlet: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(API.scenarioList, CloudletRef(name: cloudlet))
            try renderer.emit(result) { out in
                out.table(result.scenarios.map { [$0.name, $0.summary ?? ""] })
            }
        }
    }
}
