import Foundation
import NephoAWS
import NephoCore
import NephoProtocol

/// Turns a cloudlet's scenario and its resolved parameters into a CloudFormation stack
/// request: the pattern as template (inline, or through S3 when larger than
/// CloudFormation takes inline), only the parameters the template declares, nepho's
/// tags, and the capabilities the template needs.
struct StackPlan {
    var cloudlet: Cloudlet
    var scenario: Scenario
    var values: [ResolvedValue]

    /// The tag every nepho stack carries; `formation:list` finds stacks by it.
    static let createdByTag = StackTag(key: "CreatedBy", value: "nepho")

    var templateURL: URL {
        cloudlet.folder.appendingPathComponent("patterns").appendingPathComponent(scenario.pattern ?? "")
    }

    /// The template's text and what nepho reads of it.
    func template() throws -> (text: String, parsed: CloudFormationTemplate) {
        guard Providers.traits(scenario.provider)?.readsTemplateParameters == true, scenario.pattern != nil
        else {
            throw NephoError(
                .invalidInput,
                "scenario \(scenario.name) of \(cloudlet.name) uses provider \(scenario.provider); CloudFormation builds scenarios whose pattern is a template"
            )
        }
        var problems: [CloudletProblem] = []
        guard let text = try? String(contentsOf: templateURL, encoding: .utf8),
            let parsed = CloudFormationTemplate.read(templateURL, problems: &problems),
            !problems.contains(where: { $0.severity == .error })
        else {
            throw NephoError(
                .invalidInput, "pattern \(scenario.pattern ?? "") of \(cloudlet.name) cannot be read",
                details: problems.map(\.description))
        }
        return (text, parsed)
    }

    /// Refuses, naming file and line, a nested stack's `TemplateURL` that names a file nepho
    /// cannot upload (`NestedTemplateFiles`): before anything is recorded or called.
    func checkNestedFiles(_ parsed: CloudFormationTemplate) throws {
        if let problem = NestedTemplateFiles.firstProblem(
            of: templateURL, document: parsed.document,
            patterns: cloudlet.folder.appendingPathComponent("patterns"))
        {
            throw NephoError(.invalidInput, problem)
        }
    }

    /// The tags of the stack.
    var tags: [StackTag] {
        [
            Self.createdByTag, StackTag(key: "nepho:cloudlet", value: cloudlet.name),
            StackTag(key: "nepho:scenario", value: scenario.name),
            StackTag(key: "nepho:version", value: NephoVersion.current),
        ]
    }

    /// The parameters to pass: those the template declares and some layer gave a value.
    func parameters(declared: [ParameterSpec]) -> [StackParameter] {
        let names = Set(declared.map(\.name))
        return values.compactMap { value in
            guard names.contains(value.name), let text = value.value else { return nil }
            return StackParameter(key: value.name, value: text)
        }
    }

    /// The non-secret parameter values, for the state database.
    func storableParameters(declared: [ParameterSpec]) -> [String: String] {
        let names = Set(declared.map(\.name))
        var stored: [String: String] = [:]
        for value in values where names.contains(value.name) {
            guard let text = value.value else { continue }
            stored[value.name] = value.secret ? FormationLifecycle.mask : text
        }
        return stored
    }

    /// Capabilities the template needs, read from its resources and transforms:
    ///
    /// - IAM resources need `CAPABILITY_IAM` (`CAPABILITY_NAMED_IAM` when they are named);
    ///   so does SAM (`AWS::Serverless-2016-10-31`), which makes roles for its functions
    ///   (`sam deploy` passes it too);
    /// - a template CloudFormation processes first (`Transform`, `Fn::Transform`) or a nested
    ///   stack needs `CAPABILITY_AUTO_EXPAND` to be created without reviewing a change set;
    /// - under a transform nepho does not know, which may make anything, all three.
    static func capabilities(text: String, parsed: CloudFormationTemplate) -> [String] {
        var found: [String] = []
        let types = parsed.resources.map(\.type)
        let macro = parsed.transforms.contains { !$0.isKnown }
        if macro || parsed.transforms.contains(.serverless)
            || types.contains(where: { $0.hasPrefix("AWS::IAM::") })
        {
            found.append("CAPABILITY_IAM")
            let named = ["RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName"]
            if macro || named.contains(where: { text.contains("\($0):") || text.contains("\"\($0)\"") }) {
                found.append("CAPABILITY_NAMED_IAM")
            }
        }
        if parsed.isProcessed || types.contains("AWS::CloudFormation::Stack")
            || types.contains(where: { $0.hasPrefix("AWS::Serverless::") })
        {
            found.append("CAPABILITY_AUTO_EXPAND")
        }
        return found
    }

    /// The whole CreateStack request; `validated` are the capabilities ValidateTemplate named.
    func request(
        stackName: String, source: TemplateSource, text: String, parsed: CloudFormationTemplate,
        validated: [String]
    ) -> StackRequest {
        var request = StackRequest(stackName: stackName, template: source)
        request.parameters = parameters(declared: parsed.parameters)
        request.tags = tags
        var capabilities = Self.capabilities(text: text, parsed: parsed)
        for capability in validated where !capabilities.contains(capability) {
            capabilities.append(capability)
        }
        request.capabilities = capabilities
        request.onFailure = .rollback
        return request
    }
}
