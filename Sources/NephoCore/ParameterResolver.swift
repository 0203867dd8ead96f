import Foundation

/// Where a merged parameter value came from, lowest layer first.
public enum ParameterSource: String, Sendable, Comparable, CaseIterable {
    case template, cloudlet, scenario, user, commandLine, prompt

    public static func < (lhs: ParameterSource, rhs: ParameterSource) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One parameter after merging every layer.
public struct ResolvedValue: Sendable, Equatable {
    public var name: String
    public var value: String?
    public var source: ParameterSource?
    public var description: String?
    /// The default of the highest layer that has one.
    public var defaultValue: String?
    public var allowedValues: [String]
    public var required: Bool
    public var secret: Bool

    public var isMissing: Bool { required && value == nil }

    public init(
        name: String, value: String?, source: ParameterSource? = nil, description: String? = nil,
        defaultValue: String? = nil, allowedValues: [String] = [], required: Bool = false,
        secret: Bool = false
    ) {
        self.name = name
        self.value = value
        self.source = source
        self.description = description
        self.defaultValue = defaultValue
        self.allowedValues = allowedValues
        self.required = required
        self.secret = secret
    }
}

/// Required parameters with no value, or values that break a rule.
public struct ParameterError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var details: [String]
    public var description: String { ([message] + details.map { "  \($0)" }).joined(separator: "\n") }
}

/// Merges parameters across layers, lowest first: template defaults → cloudlet →
/// scenario → user (`params.yaml`) → command line (`-p`) → answers to prompts.
///
/// The parameters a scenario has are those its template declares plus those the
/// scenario declares; the cloudlet and user layers only give values to those.
public struct ParameterResolver: Sendable {
    public var template: [ParameterSpec]
    public var cloudlet: [ParameterSpec]
    public var scenario: [ParameterSpec]
    public var user: [String: String]
    public var commandLine: [String: String]

    public init(
        template: [ParameterSpec], cloudlet: [ParameterSpec], scenario: [ParameterSpec],
        user: [String: String],
        commandLine: [String: String]
    ) {
        self.template = template
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.user = user
        self.commandLine = commandLine
    }

    /// The merged parameters in declaration order; throws for unknown `-p` names and
    /// values outside the allowed ones. Missing required values are left nil.
    public func resolve() throws -> [ResolvedValue] {
        var names: [String] = []
        for spec in template + scenario where !names.contains(spec.name) { names.append(spec.name) }
        if template.isEmpty {
            for spec in cloudlet where !names.contains(spec.name) { names.append(spec.name) }
        }
        let unknown = commandLine.keys.filter { !names.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw ParameterError(
                message:
                    "unknown parameter\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", "))",
                details: [
                    "this scenario takes: "
                        + (names.isEmpty ? "no parameters" : names.joined(separator: ", "))
                ])
        }
        var values: [ResolvedValue] = []
        var problems: [String] = []
        for name in names {
            let layers: [(ParameterSource, ParameterSpec)] =
                [(.template, template), (.cloudlet, cloudlet), (.scenario, scenario)].compactMap {
                    source, specs in
                    specs.first { $0.name == name }.map { (source, $0) }
                }
            var resolved = ResolvedValue(
                name: name, value: nil, source: nil, description: nil, defaultValue: nil, allowedValues: [],
                required: true, secret: false)
            var explicitRequired: Bool?
            for (source, spec) in layers {
                if let value = spec.defaultValue {
                    resolved.value = value
                    resolved.source = source
                    resolved.defaultValue = value
                }
                if let text = spec.description { resolved.description = text }
                if !spec.allowedValues.isEmpty { resolved.allowedValues = spec.allowedValues }
                if let flag = spec.required { explicitRequired = flag }
                resolved.secret = resolved.secret || spec.secret
            }
            if let value = user[name] {
                resolved.value = value
                resolved.source = .user
            }
            if let value = commandLine[name] {
                resolved.value = value
                resolved.source = .commandLine
            }
            resolved.required = explicitRequired ?? true
            if let value = resolved.value, !resolved.allowedValues.isEmpty,
                !resolved.allowedValues.contains(value)
            {
                let shown = resolved.secret ? "the given value" : "\"\(value)\""
                problems.append(
                    "\(name): \(shown) (from the \(resolved.source.map(Self.layerName) ?? "") layer) is not one of: \(resolved.allowedValues.joined(separator: ", "))"
                )
            }
            values.append(resolved)
        }
        if !problems.isEmpty {
            throw ParameterError(message: "parameter values are not allowed", details: problems)
        }
        return values
    }

    /// Asks `ask` for each missing required value in turn, then checks nothing is missing.
    /// Without a way to ask (`ask` nil), fails listing every missing parameter.
    public func resolve(asking ask: ((ResolvedValue) throws -> String?)?) throws -> [ResolvedValue] {
        var values = try resolve()
        if let ask {
            for index in values.indices where values[index].isMissing {
                while true {
                    guard let answer = try ask(values[index]) else { break }
                    if !values[index].allowedValues.isEmpty && !values[index].allowedValues.contains(answer) {
                        continue
                    }
                    values[index].value = answer
                    values[index].source = .prompt
                    break
                }
            }
        }
        let missing = values.filter(\.isMissing)
        if !missing.isEmpty {
            throw ParameterError(
                message:
                    "missing required parameter\(missing.count == 1 ? "" : "s"): \(missing.map(\.name).joined(separator: ", "))",
                details: missing.map { value in
                    "\(value.name)" + (value.description.map { ": \($0)" } ?? "")
                        + " (give it with -p \(value.name)=VALUE or `nepho parameter:set \(value.name) VALUE`)"
                })
        }
        return values
    }

    static func layerName(_ source: ParameterSource) -> String {
        switch source {
        case .commandLine: return "command-line"
        default: return source.rawValue
        }
    }
}
