import NephoSupport

/// A parameter as one layer declares it: in `cloudlet.yaml`, a scenario, or a
/// CloudFormation template's `Parameters`.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var defaultValue: String?
    public var description: String?
    public var allowedValues: [String]
    /// nil when the layer does not say.
    public var required: Bool?
    public var secret: Bool
    /// Where it is declared.
    public var file: String
    public var mark: YAMLMark

    public init(
        name: String, defaultValue: String? = nil, description: String? = nil, allowedValues: [String] = [],
        required: Bool? = nil, secret: Bool = false, file: String = "",
        mark: YAMLMark = YAMLMark(line: 0, column: 0)
    ) {
        self.name = name
        self.defaultValue = defaultValue
        self.description = description
        self.allowedValues = allowedValues
        self.required = required
        self.secret = secret
        self.file = file
        self.mark = mark
    }

    static let keys = ["default", "description", "allowed", "required", "secret"]

    /// Reads a `parameters:` mapping. A bare scalar value is shorthand for its default.
    static func readAll(_ map: YAMLNode, key: String, reader: inout FieldReader) -> [ParameterSpec] {
        guard let node = map[key], !node.isNull else { return [] }
        guard let pairs = node.mapping else {
            reader.error(
                node, "\"\(key)\" must map each parameter name to its settings, found \(node.kindDescription)"
            )
            return []
        }
        var specs: [ParameterSpec] = []
        for pair in pairs {
            guard let name = pair.key.scalar, !name.isEmpty else {
                reader.error(pair.key, "parameter names must be text")
                continue
            }
            var spec = ParameterSpec(name: name, file: reader.file, mark: pair.key.mark)
            let value = pair.value
            if value.isNull {
                // Declared with no settings.
            } else if value.scalar != nil {
                spec.defaultValue = value.scalar
            } else if value.sequence != nil {
                spec.defaultValue = scalarText(value, reader: &reader, what: "default of \(name)")
            } else {
                reader.checkKeys(value, known: keys, what: "parameter \"\(name)\"")
                if let node = value["default"], !node.isNull {
                    spec.defaultValue = scalarText(node, reader: &reader, what: "default of \(name)")
                }
                spec.description = reader.string(value, "description")
                spec.allowedValues = reader.stringList(value, "allowed")
                spec.required = reader.bool(value, "required")
                spec.secret = reader.bool(value, "secret") ?? false
                if let node = value["default"], let text = spec.defaultValue, !spec.allowedValues.isEmpty,
                    !spec.allowedValues.contains(text)
                {
                    reader.error(
                        node,
                        "default \"\(text)\" of \(name) is not one of the allowed values: \(spec.allowedValues.joined(separator: ", "))"
                    )
                }
            }
            specs.append(spec)
        }
        return specs
    }

    /// A scalar as text, a list of scalars comma-joined (CloudFormation's list form).
    static func scalarText(_ node: YAMLNode, reader: inout FieldReader, what: String) -> String? {
        if let text = node.scalar { return text }
        if let items = node.sequence, items.allSatisfy({ $0.scalar != nil }) {
            return items.compactMap(\.scalar).joined(separator: ",")
        }
        reader.error(node, "\(what) must be text or a list of text, found \(node.kindDescription)")
        return nil
    }
}
