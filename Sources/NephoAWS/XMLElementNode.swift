import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An element of a parsed XML answer: local name, attributes, child elements and the
/// text directly inside it. Parsing is strict: a malformed or truncated document is
/// an error, never an empty tree.
public final class XMLElementNode: @unchecked Sendable {
    public let name: String
    public internal(set) var attributes: [String: String]
    public internal(set) var children: [XMLElementNode] = []
    public internal(set) var text = ""

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    /// Parses a whole document and returns its root element.
    public static func parse(_ data: Data) throws -> XMLElementNode {
        guard !data.isEmpty else { throw XMLParseError(line: 0, column: 0, reason: "empty document") }
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        let ok = parser.parse()
        if !ok || builder.failure != nil || builder.root == nil || !builder.stack.isEmpty {
            let reason = builder.failure ?? parser.parserError.map { "\($0)" } ?? "incomplete document"
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber, reason: reason)
        }
        return builder.root!
    }

    /// The first child called `name`.
    public func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }

    /// Every child called `name`.
    public func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }

    /// The `member` elements of the child list called `name` (empty when absent).
    public func members(_ name: String) -> [XMLElementNode] { child(name)?.children("member") ?? [] }

    /// Text of the child called `name`, or nil when there is no such child.
    public func optionalText(_ name: String) -> String? { child(name)?.text }

    /// Text of the child called `name`; its absence is an error naming it.
    public func requiredText(_ name: String) throws -> String {
        guard let value = child(name)?.text else { throw XMLParseError.missing(name, in: self.name) }
        return value
    }

    /// Follows a path of child names.
    public func descendant(_ path: String...) -> XMLElementNode? {
        var node: XMLElementNode? = self
        for name in path { node = node?.child(name) }
        return node
    }
}

/// A document that is not well-formed XML, or lacks an element the answer must have.
public struct XMLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String

    static func missing(_ name: String, in parent: String) -> XMLParseError {
        XMLParseError(line: 0, column: 0, reason: "<\(parent)> has no <\(name)>")
    }

    public var description: String {
        line > 0 ? "XML line \(line), column \(column): \(reason)" : "XML: \(reason)"
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLElementNode?
    var stack: [XMLElementNode] = []
    var failure: String?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        let node = XMLElementNode(name: elementName, attributes: attributeDict)
        if let parent = stack.last {
            parent.children.append(node)
        } else if root == nil {
            root = node
        } else {
            failure = "more than one root element"
            parser.abortParsing()
        }
        stack.append(node)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        stack.last?.text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if failure == nil { failure = "\(parseError)" }
    }
}
