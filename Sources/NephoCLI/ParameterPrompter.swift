import NephoProtocol
import NephoSupport

/// Asks a person for each required parameter that no layer gave a value, one at a
/// time, showing its description, default and allowed values; secrets are typed
/// without echo. Without a terminal it fails, listing every missing parameter.
struct ParameterPrompter {
    var terminal: Terminal?

    /// Values for the missing parameters of `parameters`, keyed by name.
    func answers(for parameters: [ResolvedParameter]) throws -> [String: String] {
        let missing = parameters.filter(\.isMissing)
        guard !missing.isEmpty else { return [:] }
        guard let terminal else {
            throw NephoError(
                .missingParameters,
                "missing required parameter\(missing.count == 1 ? "" : "s"): \(missing.map(\.name).joined(separator: ", "))",
                details: missing.map { parameter in
                    parameter.name + (parameter.description.map { ": \($0)" } ?? "")
                        + " (give it with -p \(parameter.name)=VALUE or `nepho parameter:set \(parameter.name) VALUE`)"
                })
        }
        var answers: [String: String] = [:]
        for parameter in missing {
            terminal.write("\(parameter.name)" + (parameter.description.map { " — \($0)" } ?? "") + "\n")
            if !parameter.allowedValues.isEmpty {
                terminal.write("  one of: \(parameter.allowedValues.joined(separator: ", "))\n")
            }
            var attempts = 0
            while true {
                attempts += 1
                let hint = parameter.defaultValue.map { " [\($0)]" } ?? ""
                let prompt = "\(parameter.name)\(hint)\(parameter.secret ? " (hidden)" : ""): "
                guard let line = terminal.readLine(prompt: prompt, echo: !parameter.secret) else {
                    throw NephoError(.missingParameters, "no value given for \(parameter.name)")
                }
                let answer = line.isEmpty ? (parameter.defaultValue ?? "") : line
                if answer.isEmpty {
                    terminal.write("  a value is required\n")
                } else if !parameter.allowedValues.isEmpty && !parameter.allowedValues.contains(answer) {
                    terminal.write("  choose one of: \(parameter.allowedValues.joined(separator: ", "))\n")
                } else {
                    answers[parameter.name] = answer
                    break
                }
                if attempts >= 5 {
                    throw NephoError(.missingParameters, "no acceptable value given for \(parameter.name)")
                }
            }
        }
        return answers
    }
}
