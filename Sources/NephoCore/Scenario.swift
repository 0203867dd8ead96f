import Foundation
import NephoSupport

/// One way to deploy a cloudlet: `scenarios/NAME.yaml`.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var summary: String?
    public var description: String?
    /// `aws` (CloudFormation) or `vagrant`.
    public var provider: String
    /// Path under the cloudlet's `patterns/`, e.g. `aws/single-host.cf`.
    public var pattern: String?
    /// File name under the cloudlet's `provisioners/`, e.g. `bootstrap.sh`.
    public var provisioner: String?
    /// The scenario layer of parameters.
    public var parameters: [ParameterSpec]
    /// The scenario file.
    public var file: URL
    /// The whole document, for `scenario:describe`.
    public var document: YAMLNode

    public static let providers = ["aws", "vagrant"]
    static let keys = ["summary", "description", "provider", "pattern", "provisioner", "parameters"]

    /// Reads `file`; problems go to `problems`, nil when it is unusable.
    static func read(_ file: URL, problems: inout [CloudletProblem]) -> Scenario? {
        let name = file.deletingPathExtension().lastPathComponent
        let root: YAMLNode
        do {
            root = try YAMLParser().parseFile(file)
        } catch let error as YAMLError {
            problems.append(CloudletProblem(error))
            return nil
        } catch {
            problems.append(CloudletProblem(file: file.path, message: "\(error)"))
            return nil
        }
        var reader = FieldReader(file: file.path)
        defer { problems += reader.problems }
        guard let map = reader.mapping(root, what: "a scenario") else { return nil }
        reader.checkKeys(map, known: keys, what: "scenario \"\(name)\"")
        let provider = reader.string(map, "provider") ?? "aws"
        if !providers.contains(provider), let node = map["provider"] {
            reader.error(node, "unknown provider \"\(provider)\" (nepho knows: \(providers.joined(separator: ", ")))")
        }
        let pattern = reader.string(map, "pattern")
        if let pattern, let node = map["pattern"], let problem = RelativePath.problem(pattern) {
            reader.error(node, "pattern \(problem)")
        }
        let provisioner = reader.string(map, "provisioner")
        if let provisioner, let node = map["provisioner"], let problem = RelativePath.problem(provisioner) {
            reader.error(node, "provisioner \(problem)")
        }
        return Scenario(
            name: name, summary: reader.string(map, "summary"), description: reader.string(map, "description"),
            provider: provider, pattern: pattern, provisioner: provisioner,
            parameters: ParameterSpec.readAll(map, key: "parameters", reader: &reader), file: file, document: root)
    }
}

/// Paths inside a cloudlet must stay inside it.
enum RelativePath {
    static func problem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.hasPrefix("/") { return "\"\(path)\" must be relative to the cloudlet" }
        if path.split(separator: "/").contains("..") { return "\"\(path)\" must not leave the cloudlet with \"..\"" }
        return nil
    }
}
