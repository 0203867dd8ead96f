import Foundation

/// The raw text of a JSON document being decoded, so that `JSONValue` objects inside it
/// keep their key order: `JSONDecoder` hands keys over in no particular order, and a
/// scenario's configuration must read the same through the daemon as in the foreground.
///
/// Put one in `JSONDecoder.userInfo[OrderedJSONSource.key]`; `JSONValue.init(from:)`
/// then finds its own subtree by its coding path.
public final class OrderedJSONSource: @unchecked Sendable {
    public static let key = CodingUserInfoKey(rawValue: "nepho.orderedJSONSource")!

    private let data: Data
    private let lock = NSLock()
    private var parsed: JSONValue??

    public init(_ data: Data) { self.data = data }

    /// A decoder that keeps `JSONValue` key order for `data`.
    public static func decoder(for data: Data) -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[key] = OrderedJSONSource(data)
        return decoder
    }

    /// The value at `path` in document order, or nil when it cannot be found.
    func value(at path: [CodingKey]) -> JSONValue? {
        let root: JSONValue? = lock.withLock {
            if parsed == nil {
                var parser = OrderedJSONParser(bytes: Array(data))
                parsed = .some(try? parser.parseDocument())
            }
            return parsed!
        }
        guard var node = root else { return nil }
        for key in path {
            switch node {
            case .object(let pairs):
                guard let next = pairs.last(where: { $0.0 == key.stringValue })?.1 else { return nil }
                node = next
            case .array(let items):
                guard let index = key.intValue, items.indices.contains(index) else { return nil }
                node = items[index]
            default:
                return nil
            }
        }
        return node
    }
}

/// A small JSON parser that keeps object keys in document order (depth-limited).
struct OrderedJSONParser {
    struct Failure: Error {}
    let bytes: [UInt8]
    var index = 0
    var depth = 0
    /// The first member name found twice in one object, if any.
    var duplicateMember: String?
    /// The text of each number that is a member of the top-level object, as written.
    var topLevelNumbers: [String: String] = [:]
    /// The first number too large for a Double (`1e400`): where it is, and as written.
    var outOfRange: (path: String, text: String)?
    private var path: [String] = []
    static let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        let value = try parseValue()
        skipSpace()
        guard index == bytes.count else { throw Failure() }
        return value
    }

    mutating func skipSpace() {
        while index < bytes.count, [9, 10, 13, 32].contains(bytes[index]) { index += 1 }
    }

    mutating func parseValue() throws -> JSONValue {
        skipSpace()
        guard index < bytes.count else { throw Failure() }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw Failure() }
            index += 1
            var pairs: [(String, JSONValue)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(pairs)
            }
            var keys: Set<String> = []
            while true {
                skipSpace()
                let key = try parseString()
                skipSpace()
                try expect(":")
                if !keys.insert(key).inserted, duplicateMember == nil { duplicateMember = key }
                skipSpace()
                let start = index
                path.append(key)
                let value = try parseValue()
                path.removeLast()
                if depth == 1, case .number = value {
                    topLevelNumbers[key] = String(decoding: bytes[start..<index], as: UTF8.self)
                }
                pairs.append((key, value))
                skipSpace()
                if try consumeEither(",", "}") { return .object(pairs) }
            }
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw Failure() }
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                items.append(try parseValue())
                skipSpace()
                if try consumeEither(",", "]") { return .array(items) }
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let number = Double(text) else { throw Failure() }
            if !number.isFinite, outOfRange == nil { outOfRange = (path.joined(separator: "."), text) }
            return .number(number)
        }
    }

    /// Consumes `more` (returns false) or `end` (returns true).
    mutating func consumeEither(_ more: Unicode.Scalar, _ end: Unicode.Scalar) throws -> Bool {
        guard index < bytes.count else { throw Failure() }
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: more) { return false }
        if byte == UInt8(ascii: end) { return true }
        throw Failure()
    }

    mutating func expect(_ scalar: Unicode.Scalar) throws {
        guard index < bytes.count, bytes[index] == UInt8(ascii: scalar) else { throw Failure() }
        index += 1
    }

    mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected
        else {
            throw Failure()
        }
        index += expected.count
    }

    mutating func parseString() throws -> String {
        try expect("\"")
        let start = index
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                index += 1
                if !bytes[start..<(index - 1)].contains(UInt8(ascii: "\\")) {
                    return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
                }
                // Let Foundation decode escapes of the quoted text.
                let quoted = Data(bytes[(start - 1)..<index])
                guard let text = try? JSONDecoder().decode(String.self, from: quoted) else { throw Failure() }
                return text
            }
            index += 1
        }
        throw Failure()
    }
}

/// The encoding half of `OrderedJSONSource`: `JSONEncoder` writes keyed containers in no
/// particular order, so while encoding a message each `JSONValue` object or array is
/// written as a placeholder string, then replaced by its own text in document order.
public final class OrderedJSONSink: @unchecked Sendable {
    public static let key = CodingUserInfoKey(rawValue: "nepho.orderedJSONSink")!

    private let lock = NSLock()
    private var values: [JSONValue] = []
    private let marker = "\u{1}nepho-ordered-json-"

    /// Encodes `value` as compact JSON in which every `JSONValue` keeps its key order.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let sink = OrderedJSONSink()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.userInfo[key] = sink
        let data = try encoder.encode(value)
        return sink.values.isEmpty ? data : try sink.splice(data)
    }

    /// The placeholder to encode in place of `value`.
    func placeholder(for value: JSONValue) -> String {
        lock.withLock {
            values.append(value)
            return marker + "\(values.count - 1)"
        }
    }

    private func splice(_ data: Data) throws -> Data {
        var text = String(decoding: data, as: UTF8.self)
        for (index, value) in values.enumerated() {
            let quoted = String(decoding: try JSONEncoder().encode(marker + "\(index)"), as: UTF8.self)
            var rendered = ""
            try Self.write(value, into: &rendered)
            if let range = text.range(of: quoted) { text.replaceSubrange(range, with: rendered) }
        }
        return Data(text.utf8)
    }

    static func write(_ value: JSONValue, into out: inout String) throws {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number, .string:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            out += String(decoding: try encoder.encode(value), as: UTF8.self)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                try write(item, into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, (key, item)) in pairs.enumerated() {
                if index > 0 { out += "," }
                try write(.string(key), into: &out)
                out += ":"
                try write(item, into: &out)
            }
            out += "}"
        }
    }
}
