import Foundation
import NephoSupport

/// A transform named in a template's `Transform` section, which CloudFormation runs on
/// the template before it builds anything.
///
/// nepho knows what the transforms AWS hosts do to a template written for them, and
/// checks such a template as written (`Fn::ForEach` loops, SAM's `Globals`). Any other
/// name is a macro (or `AWS::Include`, which inserts a file nepho cannot read): it may
/// rewrite anything, so nepho's checks of sections and resources become warnings.
public enum TemplateTransform: Sendable, Equatable, CustomStringConvertible {
    /// `AWS::LanguageExtensions`: `Fn::ForEach`, `Fn::Length`, `Fn::ToJsonString`, …
    case languageExtensions
    /// `AWS::Serverless-2016-10-31` (SAM): the `Globals` section, `AWS::Serverless::*` types.
    case serverless
    /// `AWS::SecretsManager-2020-07-23`: adds the rotation functions a `RotationSchedule` asks for.
    case secretsManager
    /// `AWS::CodeDeployBlueGreen`: ECS blue/green deployments, with the `Hooks` section.
    case codeDeployBlueGreen
    /// A macro, or a transform whose output nepho cannot see.
    case other(String)

    public init(name: String) {
        switch name {
        case "AWS::LanguageExtensions": self = .languageExtensions
        case "AWS::Serverless-2016-10-31": self = .serverless
        case "AWS::SecretsManager-2020-07-23": self = .secretsManager
        case "AWS::CodeDeployBlueGreen": self = .codeDeployBlueGreen
        default: self = .other(name)
        }
    }

    /// The name as a template writes it.
    public var name: String {
        switch self {
        case .languageExtensions: return "AWS::LanguageExtensions"
        case .serverless: return "AWS::Serverless-2016-10-31"
        case .secretsManager: return "AWS::SecretsManager-2020-07-23"
        case .codeDeployBlueGreen: return "AWS::CodeDeployBlueGreen"
        case .other(let name): return name
        }
    }

    public var description: String { name }

    /// Whether nepho knows what the transform does, and so checks the template as written.
    public var isKnown: Bool {
        if case .other = self { return false }
        return true
    }

    /// The top-level sections a transform adds to those of CloudFormation.
    var sections: [String] {
        switch self {
        case .serverless: return ["Globals"]
        case .codeDeployBlueGreen: return ["Hooks"]
        default: return []
        }
    }

    /// The keys of SAM's `Globals` section (samtranslator 1.110).
    static let serverlessGlobals = [
        "Function", "Api", "HttpApi", "SimpleTable", "StateMachine", "LayerVersion", "CapacityProvider",
        "WebSocketApi",
    ]

    /// SAM's resource types (samtranslator 1.110); others under `AWS::Serverless::` are warned about.
    static let serverlessTypes = [
        "AWS::Serverless::Api", "AWS::Serverless::Application", "AWS::Serverless::CapacityProvider",
        "AWS::Serverless::Connector", "AWS::Serverless::Function", "AWS::Serverless::GraphQLApi",
        "AWS::Serverless::HttpApi", "AWS::Serverless::LayerVersion", "AWS::Serverless::SimpleTable",
        "AWS::Serverless::StateMachine", "AWS::Serverless::WebSocketApi",
    ]

    /// Reads the `Transform` section: one name, a `{Name, Parameters}` mapping (as
    /// `AWS::Include` takes), or a list of either. Each problem is reported at its node.
    static func read(_ node: YAMLNode?, reader: inout FieldReader) -> [TemplateTransform] {
        guard let node, !node.isNull else { return [] }
        let items = node.sequence ?? [node]
        if node.sequence != nil && items.isEmpty {
            reader.error(node, "Transform must name at least one transform")
        }
        var transforms: [TemplateTransform] = []
        for item in items {
            let name: YAMLNode? = item.mapping != nil ? item["Name"] : item
            guard let name, let text = name.scalar,
                name.tag == nil || name.tag?.hasPrefix("tag:yaml.org") == true,
                !text.trimmingCharacters(in: .whitespaces).isEmpty
            else {
                reader.error(
                    item,
                    item.mapping != nil
                        ? "a transform given as a mapping needs a Name (e.g. Name: AWS::Include)"
                        : "Transform must be a transform name (e.g. AWS::Serverless-2016-10-31) or a list of them, found \(item.kindDescription)"
                )
                continue
            }
            let transform = TemplateTransform(name: text)
            if transforms.contains(transform) {
                reader.warning(item, "transform \(text) is named twice")
                continue
            }
            transforms.append(transform)
        }
        return transforms
    }
}
