import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationDescribe: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:describe",
            abstract:
                "Show a formation: status, scenario, parameters, outputs, resources, builds and the last timeline."
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let detail = try await api.call(API.formationDescribe, FormationRef(name: name))
            try renderer.emit(detail) { out in
                out.fields([
                    ("Name", detail.name), ("Status", detail.status), ("Provider", detail.provider),
                    ("Cloudlet", detail.cloudlet),
                    ("Scenario", detail.scenario), ("Region", detail.region), ("Stack", detail.stackID),
                    ("Confirmed", detail.confirmedAt),
                ])
                if !detail.parameters.isEmpty {
                    out.line("Parameters:")
                    out.table(
                        detail.parameters.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }, indent: "  ")
                }
                if !detail.outputs.isEmpty {
                    out.line("Outputs:")
                    out.table(
                        detail.outputs.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }, indent: "  ")
                }
                if let resources = detail.resources, !resources.isEmpty {
                    out.line("Resources:")
                    out.table(
                        resources.map {
                            [
                                $0.logicalID, $0.resourceType ?? "-", $0.status ?? "-",
                                String(
                                    ($0.reason ?? "").split(whereSeparator: \.isNewline).joined(
                                        separator: " "
                                    ).prefix(80)),
                            ]
                        }, indent: "  ")
                }
                out.line("Builds:")
                out.table(
                    detail.builds.map {
                        [
                            "\($0.id)", $0.operation, $0.status, $0.startedAt, $0.finishedAt ?? "running",
                            $0.error ?? "",
                        ]
                    }, indent: "  ")
                if !detail.timeline.isEmpty {
                    out.line("Timeline of the last build:")
                    for event in detail.timeline { out.line("  " + BuildWatcher.line(event.event)) }
                }
            }
        }
    }
}
