import Foundation
import NephoSupport

/// Something wrong with a cloudlet's files, at a place in one of them.
public struct CloudletProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var mark: YAMLMark
    public var severity: Severity
    public var message: String

    public init(
        file: String, mark: YAMLMark = YAMLMark(line: 0, column: 0), severity: Severity = .error,
        message: String
    ) {
        self.file = file
        self.mark = mark
        self.severity = severity
        self.message = message
    }

    init(_ error: YAMLError) {
        self.init(file: error.file ?? "<yaml>", mark: error.mark, message: error.message)
    }

    /// Parses the YAML file `url`; a failure becomes a problem (and nil).
    static func parse(_ url: URL, into problems: inout [CloudletProblem]) -> YAMLNode? {
        do {
            return try YAMLParser().parseFile(url)
        } catch let error as YAMLError {
            problems.append(CloudletProblem(error))
        } catch {
            problems.append(CloudletProblem(file: url.path, message: "\(error)"))
        }
        return nil
    }

    /// `file:line:column: severity: message`.
    public var description: String {
        var place = file
        if mark.line > 0 { place += ":\(mark.line):\(mark.column)" }
        return "\(place): \(severity.rawValue): \(message)"
    }
}

/// Why a request about cloudlets failed.
public struct CloudletError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case notFound, invalid, conflict, io }

    public var kind: Kind
    public var message: String
    public var problems: [CloudletProblem]

    public init(_ kind: Kind, _ message: String, problems: [CloudletProblem] = []) {
        self.kind = kind
        self.message = message
        self.problems = problems
    }

    public var description: String {
        ([message] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}

/// Reads typed fields out of YAML mappings, collecting a problem for each bad one.
struct FieldReader {
    let file: String
    var problems: [CloudletProblem] = []

    init(file: String) { self.file = file }

    mutating func error(_ node: YAMLNode, _ message: String) {
        problems.append(CloudletProblem(file: file, mark: node.mark, message: message))
    }

    mutating func warning(_ node: YAMLNode, _ message: String) {
        problems.append(CloudletProblem(file: file, mark: node.mark, severity: .warning, message: message))
    }

    /// The document as a mapping; a problem (and nil) when it is something else.
    mutating func mapping(_ node: YAMLNode, what: String) -> YAMLNode? {
        if node.mapping != nil { return node }
        error(node, "\(what) must be a mapping of keys to values, found \(node.kindDescription)")
        return nil
    }

    /// A scalar field as text; numbers and booleans are taken as written.
    mutating func string(_ map: YAMLNode, _ key: String, required: Bool = false) -> String? {
        guard let value = map[key], !value.isNull else {
            if required { error(map, "missing required field \"\(key)\"") }
            return nil
        }
        guard let text = value.scalar else {
            error(value, "\"\(key)\" must be text, found \(value.kindDescription)")
            return nil
        }
        if required && text.trimmingCharacters(in: .whitespaces).isEmpty {
            error(value, "\"\(key)\" must not be empty")
            return nil
        }
        return text
    }

    /// A list of scalars; a single scalar is taken as a list of one.
    mutating func stringList(_ map: YAMLNode, _ key: String) -> [String] {
        guard let value = map[key], !value.isNull else { return [] }
        if let text = value.scalar { return [text] }
        guard let items = value.sequence else {
            error(value, "\"\(key)\" must be a list, found \(value.kindDescription)")
            return []
        }
        var result: [String] = []
        for item in items {
            if let text = item.scalar {
                result.append(text)
            } else {
                error(item, "items of \"\(key)\" must be text, found \(item.kindDescription)")
            }
        }
        return result
    }

    mutating func bool(_ map: YAMLNode, _ key: String) -> Bool? {
        guard let value = map[key], !value.isNull else { return nil }
        if case .bool(let flag) = value.resolved { return flag }
        error(
            value,
            "\"\(key)\" must be true or false, found \(value.scalar.map { "\"\($0)\"" } ?? value.kindDescription)"
        )
        return nil
    }

    /// Warns about keys outside `known`, which are most often typos.
    mutating func checkKeys(_ map: YAMLNode, known: [String], what: String) {
        for pair in map.mapping ?? [] {
            guard let key = pair.key.scalar else {
                error(pair.key, "keys of \(what) must be text")
                continue
            }
            if !known.contains(key) {
                let hint = known.min { editDistance($0, key) < editDistance($1, key) }
                let suggestion =
                    hint.flatMap { editDistance($0, key) <= 2 ? " (did you mean \"\($0)\"?)" : nil } ?? ""
                warning(pair.key, "unknown key \"\(key)\" in \(what)\(suggestion)")
            }
        }
    }
}

/// Levenshtein distance, for "did you mean" hints on short words.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased())
    let b = Array(b.lowercased())
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
