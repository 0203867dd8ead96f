import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationOpen: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:open",
            abstract:
                "Print and open a formation's address (the URL or WebsiteURL output; shortcut: nepho open).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation.") var name: String
        @Flag(help: "Only print the address.") var printOnly = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let detail = try await api.call(API.formationDescribe, FormationRef(name: name))
            let names = await ScenarioOutputs.names(api: api, detail: detail)
            let keys = [names["url"], "URL", "WebsiteURL"].compactMap { $0 }
            guard let url = keys.lazy.compactMap({ detail.outputs[$0] }).first else {
                throw NephoError(
                    .notFound,
                    "formation \(name) has no address output (\(keys.joined(separator: ", "))); its outputs: \(detail.outputs.keys.sorted().joined(separator: ", "))"
                )
            }
            try renderer.emit(["url": url]) { out in out.line(url) }
            if !printOnly && global.output == .text && isatty(STDOUT_FILENO) == 1,
                let opener = ScenarioOutputs.which("xdg-open")
            {
                _ = try? await ProcessRunner.run(opener, [url], timeout: 10)
            }
        }
    }
}

/// The output names a scenario gives instead of the conventional ones.
enum ScenarioOutputs {
    static func names(api: any NephoAPI, detail: FormationDetail) async -> [String: String] {
        guard
            let scenario = try? await api.call(
                API.scenarioDescribe,
                ScenarioDescribeParams(cloudlet: detail.cloudlet, scenario: detail.scenario)),
            case .object(let pairs) = scenario.configuration,
            case .object(let outputs)? = pairs.first(where: { $0.0 == "outputs" })?.1
        else { return [:] }
        var names: [String: String] = [:]
        for (key, value) in outputs { if case .string(let text) = value { names[key] = text } }
        return names
    }

    static func which(_ program: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
