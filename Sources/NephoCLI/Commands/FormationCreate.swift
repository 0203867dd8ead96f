import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationCreate: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:create",
            abstract: "Build a formation from a cloudlet's scenario (shortcut: nepho create).",
            discussion: """
                Resolves the scenario's parameters (asking on a terminal for missing ones), checks the \
                template with CloudFormation (or lays out the Vagrant machine's folder for a vagrant \
                scenario, docs/vagrant.md), starts the build and watches it. Ctrl-C stops watching \
                only; the build goes on (`nepho formation:watch NAME`). See docs/formations.md.
                """, aliases: ["create"])

        @OptionGroup var global: GlobalOptions
        @Argument(
            help: "CLOUDLET or CLOUDLET/SCENARIO (default scenario: default).",
            completion: .custom(Completions.scenarios))
        var reference: String
        @Option(help: "The formation's name (default: CLOUDLET-SCENARIO).") var name: String?
        @Option(name: .customShort("p"), help: ArgumentHelp("Set a parameter.", valueName: "KEY=VALUE"))
        var parameters: [String] = []
        @Flag(help: "Start the build and return without watching it.") var detach = false
        @Option(
            help:
                "A provider: aws or vagrant (default: the scenario's provider); vagrant needs the cloudlet's patterns/vagrant/Vagrantfile."
        )
        var provider: String?

        func validate() throws {
            _ = try ParameterAssignments.parse(parameters)
        }

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let (cloudlet, scenario) = ScenarioReference.split(reference)
            var overrides = try ParameterAssignments.parse(parameters)
            let detail = try await api.call(
                API.scenarioDescribe,
                ScenarioDescribeParams(
                    cloudlet: cloudlet, scenario: scenario, overrides: overrides, provider: provider))
            let answers = try ParameterPrompter(terminal: Terminal.interactive()).answers(
                for: detail.parameters)
            for (key, value) in answers { overrides[key] = value }
            let build = try await api.call(
                API.formationCreate,
                FormationCreateParams(
                    cloudlet: cloudlet, scenario: scenario, name: name, overrides: overrides,
                    provider: provider))
            if !detach && global.output != .text {
                renderer.streamItem(BuildWatcher.WatchStart(formation: build.formation, build: build))
            } else if detach || global.output != .text {
                try renderer.emit(build) { out in
                    out.line(
                        "\(build.formation): \(build.operation) started (build \(build.id), \(build.status))")
                    out.line("watch it with: nepho formation:watch \(build.formation)")
                }
                if detach { return }
            } else {
                BuildWatcher.say(
                    "\(build.formation): creating (build \(build.id)); Ctrl-C stops watching, the build goes on"
                )
            }
            let status = try await BuildWatcher(
                api: api, name: build.formation, build: build.id, format: global.output
            )
            .run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
