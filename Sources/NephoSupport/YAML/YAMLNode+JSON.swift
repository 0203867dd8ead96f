import Foundation

extension YAMLNode {
    /// Reads a JSON document (a subset of YAML) into nodes that emit as natural YAML:
    /// strings lose their JSON quotes unless they would read back as another type.
    public static func fromJSON(_ data: Data) throws -> YAMLNode {
        var limits = YAMLParser.Limits()
        limits.maxBytes = Int.max
        limits.maxDepth = 512
        return try YAMLParser(limits: limits).parse(data).unquotingStrings()
    }

    /// Words YAML 1.1 readers take for booleans: kept quoted for them.
    private static let yaml11Words: Set<String> = ["y", "n", "yes", "no", "on", "off"]

    private func unquotingStrings() -> YAMLNode {
        var copy = self
        switch kind {
        case .scalar(let text, .doubleQuoted)
        where YAMLScalarValue.resolvePlain(text) == nil && !Self.yaml11Words.contains(text.lowercased()):
            copy.kind = .scalar(text, text.contains("\n") ? .literal : .plain)
        case .scalar:
            break
        case .sequence(let items):
            copy.kind = .sequence(items.map { $0.unquotingStrings() })
        case .mapping(let pairs):
            copy.kind = .mapping(pairs.map { YAMLPair(key: $0.key.unquotingStrings(), value: $0.value.unquotingStrings()) })
        }
        return copy
    }
}
