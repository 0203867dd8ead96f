import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct FormationLogs: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:logs",
            abstract: "Print the stored event log of every build of a formation.",
            discussion: """
                --chart draws the last build (or --build N) as a Gantt chart fitting the terminal's width, \
                the critical path marked; --chart html writes the same chart as a standalone HTML page to \
                standard output.
                """)

        enum Chart: String, ExpressibleByArgument, CaseIterable {
            case terminal, html
        }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The formation (its name or stack id).", completion: .custom(Completions.formations))
        var name: String
        @Option(help: "Only this build (default: every build; with --chart, the last).") var build: Int64?
        @Option(help: "Draw a build as a Gantt chart: terminal (the default with a bare --chart) or html.")
        var chart: Chart?

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            var logs = try await api.call(API.formationLogs, FormationRef(name: name))
            if let build {
                logs.builds = logs.builds.filter { $0.build.id == build }
                if logs.builds.isEmpty {
                    throw NephoError(
                        .notFound,
                        "formation \(name) has no build \(build) (see `nepho formation:logs \(name)`)")
                }
            }
            if let chart {
                guard let log = logs.builds.last else {
                    throw NephoError(.notFound, "formation \(name) has no build to chart")
                }
                let gantt = GanttChart(log: log, stack: logs.name, dependencies: logs.dependencies)
                switch chart {
                case .html:
                    FileHandle.standardOutput.write(Data(gantt.html(formation: logs.name).utf8))
                case .terminal:
                    let color = isatty(STDOUT_FILENO) == 1 && renderer.color
                    let lines = gantt.lines(columns: LiveTable.terminalSize().columns, color: color)
                    FileHandle.standardOutput.write(
                        Data(TerminalText.safe(lines.joined(separator: "\n") + "\n").utf8))
                }
                return
            }
            try renderer.emit(logs) { out in
                for log in logs.builds {
                    out.line(out.bold("build \(log.build.id): \(log.build.operation) \(log.build.status)"))
                    for event in log.events {
                        out.line("  \(event.sequence). " + BuildWatcher.line(event.event))
                    }
                }
            }
        }
    }
}
