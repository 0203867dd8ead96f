import Foundation
import NephoSupport

/// The parts of a CloudFormation template nepho reads: its parameters and resources.
/// JSON templates go through the same parser (JSON is YAML), so every problem has a
/// line and column.
public struct CloudFormationTemplate: Sendable {
    public var file: String
    public var document: YAMLNode
    public var parameters: [ParameterSpec]
    /// Logical id → resource type.
    public var resources: [(id: String, type: String)]

    /// The largest template body CloudFormation takes inline; larger ones go through S3.
    public static let maxInlineBytes = 51_200

    /// Reads and checks `url`; the problems list every structural error found.
    public static func read(_ url: URL, problems: inout [CloudletProblem]) -> CloudFormationTemplate? {
        guard let root = CloudletProblem.parse(url, into: &problems) else { return nil }
        return check(root, file: url.path, problems: &problems)
    }

    static let sections = [
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
        "Conditions",
        "Transform", "Resources", "Outputs",
    ]

    static func check(_ root: YAMLNode, file: String, problems: inout [CloudletProblem])
        -> CloudFormationTemplate?
    {
        var reader = FieldReader(file: file)
        defer { problems += reader.problems }
        guard let map = reader.mapping(root, what: "a CloudFormation template") else { return nil }
        for pair in map.mapping ?? [] {
            if let key = pair.key.scalar, !sections.contains(key) {
                reader.error(pair.key, "\"\(key)\" is not a CloudFormation template section")
            }
        }
        if let version = map["AWSTemplateFormatVersion"], version.scalar != "2010-09-09" {
            reader.error(version, "AWSTemplateFormatVersion must be \"2010-09-09\"")
        }
        var resources: [(String, String)] = []
        if let node = map["Resources"], let pairs = node.mapping, !pairs.isEmpty {
            for pair in pairs {
                let id = pair.key.scalar ?? ""
                guard pair.value.mapping != nil else {
                    reader.error(pair.value, "resource \(id) must be a mapping with a Type")
                    continue
                }
                guard let type = pair.value["Type"]?.scalar, !type.isEmpty else {
                    reader.error(pair.key, "resource \(id) has no Type")
                    continue
                }
                if !type.hasPrefix("AWS::") && !type.hasPrefix("Custom::") && !type.contains("::") {
                    reader.error(pair.value["Type"]!, "resource \(id) has an unknown Type \"\(type)\"")
                }
                resources.append((id, type))
            }
        } else {
            reader.error(
                map["Resources"] ?? map, "a template needs a Resources section with at least one resource")
        }
        var parameters: [ParameterSpec] = []
        if let node = map["Parameters"], !node.isNull {
            if let pairs = node.mapping {
                for pair in pairs {
                    let name = pair.key.scalar ?? ""
                    guard pair.value.mapping != nil else {
                        reader.error(pair.value, "parameter \(name) must be a mapping with a Type")
                        continue
                    }
                    if pair.value["Type"]?.scalar == nil {
                        reader.error(pair.key, "parameter \(name) has no Type")
                    }
                    var spec = ParameterSpec(name: name, file: file, mark: pair.key.mark)
                    if let value = pair.value["Default"] {
                        spec.defaultValue = ParameterSpec.scalarText(
                            value, reader: &reader, what: "Default of \(name)")
                    }
                    spec.description = pair.value["Description"]?.scalar
                    spec.allowedValues = pair.value["AllowedValues"]?.sequence?.compactMap(\.scalar) ?? []
                    if case .bool(true) = pair.value["NoEcho"]?.resolved { spec.secret = true }
                    if pair.value["NoEcho"]?.scalar == "true" { spec.secret = true }
                    parameters.append(spec)
                }
            } else {
                reader.error(node, "Parameters must be a mapping")
            }
        }
        return CloudFormationTemplate(
            file: file, document: root, parameters: parameters, resources: resources)
    }
}
