/// A position in a YAML document, 1-based as editors show it.
public struct YAMLMark: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// One node of a parsed YAML document, with its tag and where it starts.
///
/// Mappings keep their key order. Tags are kept as written after resolution of the
/// default handles: `!Ref` stays `!Ref`, `!!str` becomes `tag:yaml.org,2002:str`.
public struct YAMLNode: Sendable, Equatable {
    public enum ScalarStyle: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public enum Kind: Sendable, Equatable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var kind: Kind
    public var tag: String?
    public var mark: YAMLMark

    public init(_ kind: Kind, tag: String? = nil, mark: YAMLMark = YAMLMark(line: 0, column: 0)) {
        self.kind = kind
        self.tag = tag
        self.mark = mark
    }

    /// A string scalar that reads back as the same string: plain where that is safe,
    /// double-quoted where a plain scalar would mean another type (`"true"`, `"42"`).
    public static func string(_ value: String, tag: String? = nil) -> YAMLNode {
        let style: ScalarStyle =
            value.contains("\n")
            ? .literal : YAMLScalarValue.plainReadsAsString(value) ? .plain : .doubleQuoted
        return YAMLNode(.scalar(value, style), tag: tag)
    }

    /// Node equality ignores positions: two documents that say the same are equal.
    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        lhs.tag == rhs.tag && lhs.kind == rhs.kind
    }

    // MARK: Reading

    /// The text of a scalar; nil for collections.
    public var scalar: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    /// The items of a sequence; nil otherwise.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    /// The pairs of a mapping; nil otherwise.
    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// The value under the scalar key `key` in a mapping.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalar == key }?.value
    }

    /// The key node of `key` in a mapping (for positions: the key's line, not the value's).
    public func keyNode(_ key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalar == key }?.key
    }

    /// What a scalar means under the YAML 1.2 core schema (tags override).
    public var resolved: YAMLScalarValue? {
        guard case .scalar(let text, let style) = kind else { return nil }
        return YAMLScalarValue.resolve(text, style: style, tag: tag)
    }

    /// True for `null`, `~`, an empty plain scalar or `!!null`.
    public var isNull: Bool {
        if case .null = resolved { return true }
        return false
    }

    /// A short name of the node's kind for error messages ("a mapping", "a string").
    public var kindDescription: String {
        switch kind {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar:
            switch resolved {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int, .float: return "a number"
            default: return "a string"
            }
        }
    }
}

/// One key/value pair of a mapping.
public struct YAMLPair: Sendable, Equatable {
    public var key: YAMLNode
    public var value: YAMLNode
    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// The meaning of a scalar under the YAML 1.2 core schema.
public enum YAMLScalarValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)

    static let nullTag = "tag:yaml.org,2002:null"
    static let boolTag = "tag:yaml.org,2002:bool"
    static let intTag = "tag:yaml.org,2002:int"
    static let floatTag = "tag:yaml.org,2002:float"
    static let strTag = "tag:yaml.org,2002:str"

    /// Resolves `text`; quoted scalars and non-core tags are always strings.
    public static func resolve(_ text: String, style: YAMLNode.ScalarStyle, tag: String?) -> YAMLScalarValue {
        switch tag {
        case strTag: return .string(text)
        case nullTag: return .null
        case boolTag:
            return resolvePlain(text).flatMap { if case .bool = $0 { $0 } else { nil } } ?? .string(text)
        case intTag, floatTag: return resolvePlain(text) ?? .string(text)
        case nil, "!": break
        default: return .string(text)
        }
        guard style == .plain, tag == nil else { return .string(text) }
        return resolvePlain(text) ?? .string(text)
    }

    /// True when `text` written plain reads back as that string, under both YAML 1.2
    /// and the YAML 1.1 rules older readers use (`yes`, `off`).
    public static func plainReadsAsString(_ text: String) -> Bool {
        resolvePlain(text) == nil && !yaml11Words.contains(text.lowercased())
    }

    private static let yaml11Words: Set<String> = ["y", "n", "yes", "no", "on", "off"]

    /// The core schema's plain-scalar rules; nil for a plain string.
    static func resolvePlain(_ text: String) -> YAMLScalarValue? {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        guard let first = text.utf8.first,
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || first == UInt8(ascii: ".") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return nil }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return .int(value) }
        if text.hasPrefix("0o"), let value = Int(text.dropFirst(2), radix: 8) { return .int(value) }
        if isDecimalInteger(text), let value = Int(text) { return .int(value) }
        if isDecimalFloat(text), let value = Double(text) { return .float(value) }
        return nil
    }

    private static func isDecimalInteger(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func isDecimalFloat(_ text: String) -> Bool {
        // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let mantissaEnd = rest.firstIndex { $0 == "e" || $0 == "E" } ?? rest.endIndex
        let mantissa = rest[..<mantissaEnd]
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !mantissa.isEmpty, parts.count <= 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            parts.contains(where: { !$0.isEmpty })
        else { return false }
        if mantissaEnd == rest.endIndex { return true }
        var exponent = rest[rest.index(after: mantissaEnd)...]
        if exponent.first == "-" || exponent.first == "+" { exponent = exponent.dropFirst() }
        return !exponent.isEmpty && exponent.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
