import Foundation
import NephoSupport

/// One way to deploy a cloudlet: `scenarios/NAME.yaml`.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var summary: String?
    public var description: String?
    /// `aws` (CloudFormation), `vagrant`, or a registered provider (`Providers`).
    public var provider: Provider
    /// Path under the cloudlet's `patterns/`, e.g. `aws/single-host.cf`.
    public var pattern: String?
    /// File name under the cloudlet's `provisioners/`, e.g. `bootstrap.sh`.
    public var provisioner: String?
    /// The scenario layer of parameters.
    public var parameters: [ParameterSpec]
    /// `aws`: stack output names to use instead of `URL`, `SSHEndpoint`, `SSHUser`
    /// (keys `url`, `ssh_endpoint`, `ssh_user`).
    public var outputs: [String: String]
    /// `vagrant`: the address `formation:open` opens, with `${Name}` parameter references.
    public var url: String?
    /// The scenario file.
    public var file: URL
    /// The whole document, for `scenario:describe`.
    public var document: YAMLNode

    static let keys = ["summary", "description", "provider", "pattern", "provisioner", "parameters"]
    static let outputKeys = ["url", "ssh_endpoint", "ssh_user", "ssh_port"]

    /// Reads `file`; problems go to `problems`, nil when it is unusable.
    static func read(_ file: URL, problems: inout [CloudletProblem]) -> Scenario? {
        let name = file.deletingPathExtension().lastPathComponent
        guard let root = CloudletProblem.parse(file, into: &problems) else { return nil }
        var reader = FieldReader(file: file.path)
        defer { problems += reader.problems }
        guard let map = reader.mapping(root, what: "a scenario") else { return nil }
        let provider = Provider(reader.string(map, "provider") ?? Providers.cloudFormation.provider.id)
        let traits = Providers.traits(provider)
        if traits == nil, let node = map["provider"] {
            reader.error(node, Providers.unknown(provider.id))
        }
        // Every provider's own keys are known words; one that is not this provider's is said below.
        reader.checkKeys(
            map, known: keys + Providers.known.flatMap(\.scenarioKeys).sorted(), what: "scenario \"\(name)\"")
        func providerKey(_ key: String, _ hint: String = "") {
            guard traits != nil, traits?.scenarioKeys.contains(key) != true, let keyNode = map.keyNode(key)
            else { return }
            reader.error(
                keyNode, "\"\(key)\" applies to \(Providers.names(reading: key)) scenarios only\(hint)")
        }
        let pattern = reader.string(map, "pattern")
        if let pattern, let node = map["pattern"], let problem = RelativePath.problem(pattern) {
            reader.error(node, "pattern \(problem)")
        }
        let provisioner = reader.string(map, "provisioner")
        if let provisioner, let node = map["provisioner"], let problem = RelativePath.problem(provisioner) {
            reader.error(node, "provisioner \(problem)")
        }
        var outputs: [String: String] = [:]
        if let node = map["outputs"], !node.isNull {
            providerKey("outputs")
            if node.mapping != nil {
                reader.checkKeys(node, known: outputKeys, what: "outputs")
                for key in outputKeys { outputs[key] = reader.string(node, key) }
            } else {
                reader.error(
                    node, "\"outputs\" must map url, ssh_endpoint, ssh_user or ssh_port to output names")
            }
        }
        let url = reader.string(map, "url")
        if url != nil { providerKey("url", " (aws scenarios use outputs)") }
        return Scenario(
            name: name, summary: reader.string(map, "summary"),
            description: reader.string(map, "description"),
            provider: provider, pattern: pattern, provisioner: provisioner,
            parameters: ParameterSpec.readAll(map, key: "parameters", reader: &reader), outputs: outputs,
            url: url,
            file: file, document: root)
    }
}

/// Paths inside a cloudlet must stay inside it.
public enum RelativePath {
    public static func problem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.hasPrefix("/") { return "\"\(path)\" must be relative to the cloudlet" }
        if path.split(separator: "/").contains("..") {
            return "\"\(path)\" must not leave the cloudlet with \"..\""
        }
        return nil
    }
}
