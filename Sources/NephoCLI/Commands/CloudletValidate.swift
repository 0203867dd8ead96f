import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct CloudletValidate: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "cloudlet:validate",
            abstract: "Check a cloudlet: metadata, scenarios, patterns and parameters.",
            discussion:
                "Lists every problem as file:line:column. Exits 0 when no errors were found (warnings allowed), 1 otherwise."
        )

        @OptionGroup var global: GlobalOptions
        @Argument(
            help: "A cloudlet folder, or the name of an installed cloudlet (default: the current folder).",
            completion: .directory)
        var path: String = "."

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let target =
                FileManager.default.fileExists(atPath: path) || path.contains("/")
                ? CommandPath.absolute(path) : path
            let report = try await api.call(API.cloudletValidate, CloudletValidateParams(path: target))
            try renderer.emit(report) { out in
                for problem in report.problems {
                    var shown = problem
                    shown.file = CommandPath.display(problem.file)
                    let text = "\(shown)"
                    out.line(problem.severity == .error ? out.red(text) : out.yellow(text))
                }
                let errors = report.problems.filter { $0.severity == .error }.count
                let warnings = report.problems.count - errors
                let name = report.name ?? CommandPath.display(report.path)
                if errors == 0 {
                    out.line(
                        out.green("\(name) is valid")
                            + (warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : ""))
                } else {
                    out.line(
                        "\(name): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
                    )
                }
            }
            if !report.valid { throw ExitCode(1) }
        }
    }
}
