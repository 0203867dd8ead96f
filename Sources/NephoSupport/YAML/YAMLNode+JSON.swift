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

    private func unquotingStrings() -> YAMLNode {
        var copy = self
        switch kind {
        case .scalar(let text, .doubleQuoted) where YAMLScalarValue.plainReadsAsString(text):
            copy.kind = .scalar(text, text.contains("\n") ? .literal : .plain)
        case .scalar:
            break
        case .sequence(let items):
            copy.kind = .sequence(items.map { $0.unquotingStrings() })
        case .mapping(let pairs):
            copy.kind = .mapping(
                pairs.map { YAMLPair(key: $0.key.unquotingStrings(), value: $0.value.unquotingStrings()) })
        }
        return copy
    }
}
