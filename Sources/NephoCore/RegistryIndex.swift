import Foundation

/// A registry's index: the JSON file listing its cloudlets (docs/registry.md).
///
/// ```json
/// {"format_version": 1, "name": "huit", "cloudlets": [{"name": "huit/mediawiki", …}]}
/// ```
public struct RegistryIndex: Codable, Sendable, Equatable {
    /// The index format this nepho reads and writes.
    public static let formatVersion = 1

    public var formatVersion: Int
    /// A label for people (optional).
    public var name: String?
    /// When the index was generated, ISO 8601 (optional).
    public var generated: String?
    public var cloudlets: [RegistryEntry]

    public init(name: String? = nil, generated: String? = nil, cloudlets: [RegistryEntry]) {
        formatVersion = RegistryIndex.formatVersion
        self.name = name
        self.generated = generated
        self.cloudlets = cloudlets
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case name, generated, cloudlets
    }

    /// Decodes and checks an index; every problem names the entry and the field.
    ///
    /// - Parameters:
    ///   - origin: the registry URL or file, for messages.
    ///   - allowLocalSources: true when the registry itself is on this machine.
    public static func decode(_ data: Data, origin: String, allowLocalSources: Bool)
        throws(RegistryIndexError)
        -> RegistryIndex
    {
        func fail(_ message: String, _ details: [String] = []) -> RegistryIndexError {
            RegistryIndexError(origin: origin, message: message, details: details)
        }
        if data.count > RegistryLimits.indexBytes {
            throw fail(
                "the index is \(data.count) bytes, more than the limit of \(RegistryLimits.indexBytes)")
        }
        if data.isEmpty { throw fail("the index is empty") }
        // Read the format version first so a newer index gets a useful message.
        struct Header: Decodable {
            let formatVersion: Int?
            enum CodingKeys: String, CodingKey { case formatVersion = "format_version" }
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw fail("the index is not valid JSON (\(describe(error, in: nil))); it may be truncated")
        }
        guard let version = header.formatVersion else { throw fail("field 'format_version' is missing") }
        if version > formatVersion {
            throw fail(
                "the index has format_version \(version); this nepho reads \(formatVersion): upgrade nepho")
        }
        if version < 1 { throw fail("field 'format_version' must be 1") }
        let index: RegistryIndex
        do {
            index = try JSONDecoder().decode(RegistryIndex.self, from: data)
        } catch {
            throw fail(describe(error, in: data))
        }
        var problems: [String] = []
        var seen: [String: Int] = [:]
        for (position, entry) in index.cloudlets.enumerated() {
            let label = "cloudlets[\(position)] '\(entry.name)'"
            for problem in entry.problems(allowLocalSources: allowLocalSources) {
                problems.append("\(label): field '\(problem.field)' \(problem.message)")
            }
            if let earlier = seen[entry.name.lowercased()] {
                problems.append("\(label): the name is already used by cloudlets[\(earlier)]")
            } else {
                seen[entry.name.lowercased()] = position
            }
        }
        if !problems.isEmpty {
            let shown =
                Array(problems.prefix(20))
                + (problems.count > 20 ? ["… and \(problems.count - 20) more"] : [])
            throw fail(
                "the index has \(problems.count) invalid entr\(problems.count == 1 ? "y" : "ies")", shown)
        }
        return index
    }

    /// The entry named `name` (case-insensitive), if listed.
    public func entry(named name: String) -> RegistryEntry? {
        let lower = name.lowercased()
        return cloudlets.first { $0.name.lowercased() == lower }
    }

    /// Encodes the index as registries publish it: sorted keys, pretty-printed.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// A `DecodingError` as "cloudlets[3] 'owner/name': field 'summary' …".
    static func describe(_ error: Error, in data: Data?) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func place(_ path: [CodingKey]) -> String {
            var text = ""
            var entryIndex: Int?
            for key in path {
                if let index = key.intValue {
                    text += "[\(index)]"
                    if entryIndex == nil { entryIndex = index }
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            if let data, let entryIndex, path.first?.stringValue == "cloudlets",
                let name = entryName(at: entryIndex, in: data)
            {
                let field = path.dropFirst(2).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined()
                return "cloudlets[\(entryIndex)] '\(name)': field '\(field)'"
            }
            return "field '\(text)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(place(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(place(context.codingPath)) must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(place(context.codingPath)) must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            let underlying =
                (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return context.codingPath.isEmpty
                ? (underlying ?? context.debugDescription)
                : "\(place(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "a whole number"
        case is [String].Type: return "a list of strings"
        default: return "\(type)".hasPrefix("Array") ? "a list" : "\(type)"
        }
    }

    /// The name of the entry at `index`, read loosely, for error messages.
    private static func entryName(at index: Int, in data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["cloudlets"] as? [Any], index < list.count,
            let entry = list[index] as? [String: Any]
        else { return nil }
        return entry["name"] as? String
    }
}

/// A registry index that cannot be used; nothing from it was cached or installed.
public struct RegistryIndexError: Error, Sendable, Equatable, CustomStringConvertible {
    public var origin: String
    public var message: String
    public var details: [String]

    public init(origin: String, message: String, details: [String] = []) {
        self.origin = origin
        self.message = message
        self.details = details
    }

    public var description: String {
        (["registry \(origin): \(message)"] + details.map { "  " + $0 }).joined(separator: "\n")
    }
}
