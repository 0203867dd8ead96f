import CYAML
import Foundation

/// A YAML document that could not be read, with the place it went wrong.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, or a label such as `<stdin>`; nil when parsing a bare string.
    public var file: String?
    public var mark: YAMLMark
    public var message: String

    public init(file: String?, mark: YAMLMark, message: String) {
        self.file = file
        self.mark = mark
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String {
        var place = file ?? "<yaml>"
        if mark.line > 0 { place += ":\(mark.line):\(mark.column)" }
        return "\(place): \(message)"
    }
}

/// Parses YAML with the system libyaml into `YAMLNode` trees, within limits that stop
/// hostile input: a size cap, a nesting cap, and a cap on nodes created by aliases
/// (the "billion laughs" attack). Duplicate mapping keys are an error.
public struct YAMLParser: Sendable {
    public struct Limits: Sendable {
        /// Largest document in bytes.
        public var maxBytes: Int = 4 << 20
        /// Deepest nesting of sequences and mappings.
        public var maxDepth: Int = 128
        /// Most nodes that alias expansion may add to a document.
        public var maxAliasNodes: Int = 10_000
        public init() {}
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Reads and parses the single document in `url`; an empty file is a null node.
    public func parseFile(_ url: URL) throws -> YAMLNode {
        let path = url.path
        // A FIFO would block the reader, a device never ends: say what the path is instead.
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            throw YAMLError(
                file: path, mark: YAMLMark(line: 0, column: 0),
                message:
                    "is not a regular file (it is \(FileKind.describe(info.st_mode))); nepho reads YAML from files"
            )
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > limits.maxBytes {
            throw YAMLError(
                file: path, mark: YAMLMark(line: 0, column: 0),
                message: "document is \(size) bytes, over the limit of \(limits.maxBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw YAMLError(
                file: path, mark: YAMLMark(line: 0, column: 0),
                message: "cannot read: \(SystemError.reason(error))")
        }
        return try parse(data, file: path)
    }

    /// Parses the single document in `text`.
    public func parse(_ text: String, file: String? = nil) throws -> YAMLNode {
        try parse(Data(text.utf8), file: file)
    }

    /// Parses the single document in `data`.
    public func parse(_ data: Data, file: String? = nil) throws -> YAMLNode {
        let documents = try parseAll(data, file: file)
        if documents.count > 1 {
            throw YAMLError(
                file: file, mark: documents[1].mark,
                message: "expected one YAML document, found a second one here")
        }
        return documents.first ?? YAMLNode(.scalar("", .plain), mark: YAMLMark(line: 1, column: 1))
    }

    /// Parses every document of a stream.
    public func parseAll(_ data: Data, file: String? = nil) throws -> [YAMLNode] {
        if data.count > limits.maxBytes {
            throw YAMLError(
                file: file, mark: YAMLMark(line: 0, column: 0),
                message: "document is \(data.count) bytes, over the limit of \(limits.maxBytes)")
        }
        var builder = TreeBuilder(file: file, limits: limits)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                throw YAMLError(file: file, mark: YAMLMark(line: 0, column: 0), message: "out of memory")
            }
            defer { yaml_parser_delete(&parser) }
            let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            var empty: UInt8 = 0
            yaml_parser_set_input_string(&parser, base ?? withUnsafePointer(to: &empty) { $0 }, raw.count)
            var done = false
            while !done {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw Self.parserError(&parser, file: file)
                }
                defer { yaml_event_delete(&event) }
                done = event.type == YAML_STREAM_END_EVENT
                try builder.handle(&event)
            }
        }
        return builder.documents
    }

    private static func parserError(_ parser: inout yaml_parser_t, file: String?) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        var message = problem
        if let context = parser.context.map({ String(cString: $0) }) {
            message = "\(context): \(problem)"
        }
        let mark = YAMLMark(
            line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        return YAMLError(file: file, mark: mark, message: message)
    }
}

/// Builds node trees from libyaml's events.
private struct TreeBuilder {
    let file: String?
    let limits: YAMLParser.Limits
    var documents: [YAMLNode] = []
    /// An open collection: its items (or pairs) so far, kept outside the node so that
    /// appending does not copy them.
    struct Frame {
        var node: YAMLNode
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        var isMapping: Bool
        /// Plain scalar keys seen so far and their lines, for duplicate detection.
        var keyLines: [String: Int] = [:]
    }
    var stack: [Frame] = []
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var aliasNodes = 0

    init(file: String?, limits: YAMLParser.Limits) {
        self.file = file
        self.limits = limits
    }

    mutating func handle(_ event: inout yaml_event_t) throws {
        let mark = YAMLMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            anchors = [:]
            aliasNodes = 0
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(
                decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let style: YAMLNode.ScalarStyle
            switch scalar.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let node = YAMLNode(.scalar(text, style), tag: Self.string(scalar.tag), mark: mark)
            try add(node, anchor: Self.string(scalar.anchor))
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            try open(
                YAMLNode(.sequence([]), tag: Self.string(start.tag), mark: mark),
                anchor: Self.string(start.anchor))
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            try open(
                YAMLNode(.mapping([]), tag: Self.string(start.tag), mark: mark),
                anchor: Self.string(start.anchor))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            let closed = stack.removeLast()
            var node = closed.node
            node.kind = closed.isMapping ? .mapping(closed.pairs) : .sequence(closed.items)
            try add(node, anchor: closed.anchor)
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                throw YAMLError(file: file, mark: mark, message: "unknown alias *\(name)")
            }
            aliasNodes += target.size
            if aliasNodes > limits.maxAliasNodes {
                throw YAMLError(
                    file: file, mark: mark,
                    message:
                        "aliases expand to more than \(limits.maxAliasNodes) nodes (possible \"billion laughs\" document)"
                )
            }
            var node = target.node
            node.mark = mark
            try add(node, anchor: nil)
        default:
            break
        }
    }

    private mutating func open(_ node: YAMLNode, anchor: String?) throws {
        if stack.count >= limits.maxDepth {
            throw YAMLError(
                file: file, mark: node.mark, message: "nesting deeper than \(limits.maxDepth) levels")
        }
        let isMapping: Bool
        if case .mapping = node.kind { isMapping = true } else { isMapping = false }
        stack.append(Frame(node: node, anchor: anchor, isMapping: isMapping))
    }

    private mutating func add(_ node: YAMLNode, anchor: String?) throws {
        if let anchor { anchors[anchor] = (node, Self.size(of: node)) }
        guard !stack.isEmpty else {
            documents.append(node)
            return
        }
        let top = stack.count - 1
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey {
            stack[top].pairs.append(YAMLPair(key: key, value: node))
            stack[top].pendingKey = nil
        } else {
            if let text = node.scalar, node.tag == nil || node.tag == "!" {
                let key = (node.tag ?? "") + text
                if let line = stack[top].keyLines[key] {
                    throw YAMLError(
                        file: file, mark: node.mark,
                        message: "duplicate key \"\(text)\" (first defined at line \(line))")
                }
                stack[top].keyLines[key] = node.mark.line
            }
            stack[top].pendingKey = node
        }
    }

    private static func size(of node: YAMLNode) -> Int {
        switch node.kind {
        case .scalar: return 1
        case .sequence(let items): return 1 + items.reduce(0) { $0 + size(of: $1) }
        case .mapping(let pairs): return 1 + pairs.reduce(0) { $0 + size(of: $1.key) + size(of: $1.value) }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
