import Foundation
import NephoSupport

/// The number of `NEPHO_PHASE` phases a provisioner announces, read from its text, and
/// the check that a pattern's wait condition waits for all of them.
///
/// nepho's AWS hand-off sends one SUCCESS signal per phase and a final one
/// (docs/provisioners.md), so the `AWS::CloudFormation::WaitCondition` it signals needs
/// `Count` = phases + 1: with fewer the stack goes on before the bootstrap has finished,
/// with more it waits for signals that never come (unless several instances each send
/// their final signal). The same rule as `scripts/sync-cloudlet-bootstraps`.
public enum ProvisionerPhases {
    /// The total of the script's literal `NEPHO_PHASE n/total` lines; else of a
    /// `TOTAL=N` (or `readonly TOTAL=N`) assignment in a script that prints
    /// `NEPHO_PHASE` lines; 0 for a script that mentions no phases; nil when unclear.
    public static func total(in script: String) -> Int? {
        var totals = Set<Int>()
        var rest = Substring(script)
        while let range = rest.range(of: "NEPHO_PHASE ") {
            rest = rest[range.upperBound...]
            let fraction = rest.prefix { $0.isNumber || $0 == "/" }.split(separator: "/")
            if fraction.count == 2, Int(fraction[0]) != nil, let total = Int(fraction[1]), total > 0 {
                totals.insert(total)
            }
        }
        if !totals.isEmpty { return totals.count == 1 ? totals.first : nil }
        guard script.contains("NEPHO_PHASE") else { return 0 }
        var assigned = Set<Int>()
        for line in script.split(whereSeparator: \.isNewline) {
            var text = line.trimmingCharacters(in: .whitespaces)
            for prefix in ["readonly ", "declare -r "] where text.hasPrefix(prefix) {
                text = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            }
            if text.hasPrefix("TOTAL="), let total = Int(text.dropFirst("TOTAL=".count)) {
                assigned.insert(total)
            }
        }
        return assigned.count == 1 ? assigned.first : nil
    }

    /// Warnings for each wait condition of `template` whose handle the user data names
    /// (`${Handle}` in the pattern's text) and whose literal `Count` is not phases + 1.
    static func countProblems(
        template: CloudFormationTemplate, provisioner: URL, provisionerName: String
    ) -> [CloudletProblem] {
        guard let script = try? String(contentsOf: provisioner, encoding: .utf8),
            let phases = total(in: script),
            let text = try? String(contentsOf: URL(fileURLWithPath: template.file), encoding: .utf8),
            let resources = template.document["Resources"]?.mapping
        else { return [] }
        var problems: [CloudletProblem] = []
        for pair in resources where pair.value["Type"]?.scalar == "AWS::CloudFormation::WaitCondition" {
            let properties = pair.value["Properties"]
            guard let handle = properties?["Handle"], let name = handle["Ref"]?.scalar ?? handle.scalar,
                text.contains("${\(name)}")
            else { continue }
            let countNode = properties?["Count"]
            guard countNode?.tag == nil || countNode?.tag?.hasPrefix("tag:yaml.org") == true else { continue }
            let count: Int
            if let countNode {
                guard let scalar = countNode.scalar, let value = Int(scalar) else { continue }
                count = value
            } else {
                count = 1
            }
            guard count != phases + 1 else { continue }
            let id = pair.key.scalar ?? "?"
            let consequence =
                count < phases + 1
                ? "the stack would go on before the bootstrap has finished"
                : "the stack waits for more signals than one instance sends"
            problems.append(
                CloudletProblem(
                    file: template.file, mark: (countNode ?? pair.key).mark, severity: .warning,
                    message:
                        "\(id) has Count \(count), but provisioner \(provisionerName) has \(phases) phase(s): nepho's hand-off signals each phase and then the end, so Count should be \(phases + 1); as it is, \(consequence) (docs/provisioners.md)"
                ))
        }
        return problems
    }
}
