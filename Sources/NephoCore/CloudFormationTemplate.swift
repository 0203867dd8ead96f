import Foundation
import NephoSupport

/// The parts of a CloudFormation template nepho reads: its transforms, parameters and
/// resources. JSON templates go through the same parser (JSON is YAML), so every problem
/// has a line and column.
public struct CloudFormationTemplate: Sendable {
    public var file: String
    public var document: YAMLNode
    /// The `Transform` section's transforms, in the order CloudFormation runs them.
    public var transforms: [TemplateTransform] = []
    public var parameters: [ParameterSpec]
    /// Logical id → resource type, as written: a resource inside an `Fn::ForEach` loop
    /// has its key with the loop's identifier (`Topic${Name}`).
    public var resources: [(id: String, type: String)]
    /// Whether the template calls `Fn::Transform` somewhere (a macro or `AWS::Include` on a snippet).
    public var callsTransform = false

    /// Whether CloudFormation processes the template before it builds anything, so that
    /// creating a stack from it directly needs `CAPABILITY_AUTO_EXPAND`.
    public var isProcessed: Bool { !transforms.isEmpty || callsTransform }

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
        if let version = map["AWSTemplateFormatVersion"], version.scalar != "2010-09-09" {
            reader.error(version, "AWSTemplateFormatVersion must be \"2010-09-09\"")
        }
        let transforms = TemplateTransform.read(map["Transform"], reader: &reader)
        var checker = TemplateChecker(reader: reader, transforms: transforms)
        if let node = map["Transform"] { checker.sayUnknownTransforms(at: node) }
        checker.checkSections(map)
        checker.checkEntries(map)
        reader = checker.reader
        RainDirective.check(root, reader: &reader)
        var parameters: [ParameterSpec] = []
        if let node = map["Parameters"], !node.isNull {
            if let pairs = node.mapping {
                for pair in pairs {
                    let name = pair.key.scalar ?? ""
                    if name.hasPrefix(TemplateChecker.forEachPrefix) { continue }  // reported above
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
            file: file, document: root, transforms: transforms, parameters: parameters,
            resources: checker.resources, callsTransform: callsTransform(root))
    }

    /// Whether `node` calls `Fn::Transform` (long form or `!Transform`) anywhere.
    static func callsTransform(_ node: YAMLNode) -> Bool {
        if node.tag == "!Transform" { return true }
        switch node.kind {
        case .scalar: return false
        case .sequence(let items): return items.contains(where: callsTransform)
        case .mapping(let pairs):
            return pairs.contains { $0.key.scalar == "Fn::Transform" || callsTransform($0.value) }
        }
    }
}
