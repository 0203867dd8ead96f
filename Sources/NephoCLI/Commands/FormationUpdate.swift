import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationUpdate: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:update",
            abstract: "Update a formation through a change set: show the changes, ask, execute, watch.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
        @Option(name: .customShort("p"), help: ArgumentHelp("Set a parameter.", valueName: "KEY=VALUE"))
        var parameters: [String] = []
        @Flag(help: "Execute the change set without asking.") var yes = false
        @Flag(help: "Start the update and return without watching it.") var detach = false

        func validate() throws { _ = try ParameterAssignments.parse(parameters) }

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let plan = try await api.call(
                API.formationUpdate,
                FormationUpdateParams(name: name, overrides: try ParameterAssignments.parse(parameters)))
            if plan.changeSet.isEmpty {
                try renderer.emit(plan) { out in out.line("\(name): nothing to change") }
                return
            }
            if global.output == .text {
                BuildWatcher.say("Changes to \(name):")
                for change in plan.changes {
                    let replace =
                        change.replacement.map {
                            $0 == "True" ? " (REPLACEMENT)" : $0 == "Conditional" ? " (may replace)" : ""
                        } ?? ""
                    let nested = change.nestedStack.map { " (in nested stack \($0))" } ?? ""
                    BuildWatcher.say(
                        "  \(change.action.padding(toLength: 7, withPad: " ", startingAt: 0)) \(change.logicalID) \(change.resourceType)\(replace)\(nested)"
                    )
                }
                if let parameters = plan.parameters, !parameters.isEmpty {
                    BuildWatcher.say("Parameters:")
                    for change in parameters {
                        BuildWatcher.say(
                            "  \(change.name): \(change.old ?? "(none)") → \(change.new ?? "(none)")")
                    }
                }
            }
            guard try Confirmation.ask("Execute these \(plan.changes.count) change(s)?", yes: yes) else {
                BuildWatcher.say(
                    "not executed; the change set \(plan.changeSet) is left for CloudFormation to expire")
                return
            }
            let started = try await api.call(
                API.formationUpdate,
                FormationUpdateParams(name: name, changeSet: plan.changeSet))
            if detach {
                try renderer.emit(started) { out in
                    out.line("\(name): update started")
                    out.line("watch it with: nepho formation:watch \(name)")
                }
                return
            }
            renderer.streamItem(
                BuildWatcher.WatchStart(
                    formation: name, build: started.build, changeSet: plan.changeSet, changes: plan.changes))
            let status = try await BuildWatcher(
                api: api, name: name, build: started.build?.id, format: global.output
            )
            .run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
