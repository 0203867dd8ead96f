import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct ScenarioDescribe: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "scenario:describe",
            abstract: "Show a scenario: summary, description and the merged configuration.",
            discussion: """
                Parameters merge across layers, lowest first: the pattern's defaults, cloudlet.yaml, \
                the scenario, $NEPHO_HOME/params.yaml, then -p KEY=VALUE. Each value is shown with \
                the layer it came from; secrets are masked.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(
            help: "CLOUDLET or CLOUDLET/SCENARIO (default scenario: default).",
            completion: .custom(Completions.scenarios))
        var reference: String
        @Option(
            name: .customShort("p"),
            help: ArgumentHelp("Set a parameter for this view.", valueName: "KEY=VALUE"))
        var parameters: [String] = []

        func validate() throws { _ = try ParameterAssignments.parse(parameters) }

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let (cloudlet, scenario) = ScenarioReference.split(reference)
            let detail = try await api.call(
                API.scenarioDescribe,
                ScenarioDescribeParams(
                    cloudlet: cloudlet, scenario: scenario,
                    overrides: try ParameterAssignments.parse(parameters)))
            try renderer.emit(detail) { out in
                let rule = String(repeating: "-", count: 48)
                out.fields([
                    ("Name", detail.name),
                    ("Cloudlet", detail.cloudlet),
                    ("Summary", detail.summary),
                    ("Description", detail.description?.trimmingCharacters(in: .whitespacesAndNewlines)),
                ])
                out.line(rule)
                out.line("Scenario Configuration:")
                out.line(rule)
                out.raw(ScenarioConfigurationText.render(detail))
                out.line(rule)
                out.line("Modify these options by editing the scenario file:")
                out.line(detail.path)
            }
        }
    }
}

/// `cloudlet/scenario` → its parts; the scenario is nil when not given.
enum ScenarioReference {
    static func split(_ reference: String) -> (cloudlet: String, scenario: String?) {
        // owner/name/scenario or name/scenario; a lone owner/name is taken as a cloudlet
        // name only when it has no scenario part, which the engine resolves.
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return (reference, nil)
        case 2: return (parts[0], parts[1].isEmpty ? nil : parts[1])
        default: return (parts.dropLast().joined(separator: "/"), parts.last!)
        }
    }
}

/// Parses `-p KEY=VALUE` options.
enum ParameterAssignments {
    static func parse(_ assignments: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ValidationError("-p takes KEY=VALUE, got \"\(assignment)\"")
            }
            values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        return values
    }
}

/// The configuration block of `scenario:describe`: YAML, with each parameter's layer
/// as a comment.
enum ScenarioConfigurationText {
    static func render(_ detail: ScenarioDetail) -> String {
        var text = ""
        if case .object(let pairs) = detail.configuration {
            let rest = pairs.filter { $0.0 != "parameters" }
            if !rest.isEmpty, let yaml = try? YAMLEmitter.emit(yamlNode(.object(rest))) {
                text += yaml
            }
        }
        guard !detail.parameters.isEmpty else { return text }
        text += "parameters:\n"
        let rows = detail.parameters.map { parameter -> (String, String) in
            let value = parameter.value.map(yamlScalar) ?? ""
            var note: String
            if let layer = parameter.layer {
                note = "# \(layer.rawValue)"
            } else {
                note = parameter.required ? "# missing: required" : "# not set"
            }
            if parameter.secret { note += ", secret" }
            if !parameter.allowedValues.isEmpty {
                note += "; one of \(parameter.allowedValues.joined(separator: ", "))"
            }
            return ("  \(parameter.name): \(value)", note)
        }
        let width = min(rows.map(\.0.count).max() ?? 0, 48)
        for (line, note) in rows {
            text += line + String(repeating: " ", count: max(2, width + 2 - line.count)) + note + "\n"
        }
        return text
    }

    /// A JSON value as a YAML node, keeping key order.
    static func yamlNode(_ value: JSONValue) -> YAMLNode {
        switch value {
        case .null: return YAMLNode(.scalar("null", .plain))
        case .bool(let flag): return YAMLNode(.scalar(flag ? "true" : "false", .plain))
        case .number(let number):
            return YAMLNode(
                .scalar(
                    number == number.rounded() && abs(number) < 1e15 ? "\(Int64(number))" : "\(number)",
                    .plain))
        case .string(let text): return .string(text)
        case .array(let items): return YAMLNode(.sequence(items.map(yamlNode)))
        case .object(let pairs):
            return YAMLNode(.mapping(pairs.map { YAMLPair(key: .string($0.0), value: yamlNode($0.1)) }))
        }
    }

    /// A value as YAML writes it on one line.
    static func yamlScalar(_ value: String) -> String {
        let special = CharacterSet(charactersIn: ":#{}[],&*!|>'\"%@`\n\t\\")
        if YAMLScalarValue.plainReadsAsString(value), value.rangeOfCharacter(from: special) == nil,
            value.first != " ", value.last != " ", value.first != "-", value.first != "?"
        {
            return value
        }
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
