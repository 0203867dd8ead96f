import Foundation

/// The AWS shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`),
/// read as the AWS CLI reads them: `[section]` headers, `key = value` lines, `#`/`;`
/// comments, and indented `key = value` lines under an empty-valued key forming a
/// nested map (used by `[services NAME]` sections).
public struct AWSSharedFile: Sendable, Equatable {
    /// Section name (as written between brackets, trimmed) → keys → values.
    public var sections: [String: [String: String]] = [:]
    /// Section → key → nested key → value, for the indented form.
    public var nested: [String: [String: [String: String]]] = [:]

    public init() {}

    /// Parses `text`; `path` only names the file in errors.
    public init(parsing text: String, path: String) throws {
        var current: String?
        var parentKey: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]") else {
                    throw AWSConfigurationError.malformedFile(
                        path: path, line: index + 1, reason: "a section header must end with ]")
                }
                let name = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                parentKey = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current else {
                throw AWSConfigurationError.malformedFile(
                    path: path, line: index + 1, reason: "a setting before any [section]")
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw AWSConfigurationError.malformedFile(
                    path: path, line: index + 1, reason: "expected key = value")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = stripComment(
                trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            let indented = line.first == " " || line.first == "\t"
            if indented, let parentKey {
                nested[section, default: [:]][parentKey, default: [:]][key] = value
                continue
            }
            sections[section, default: [:]][key] = value
            parentKey = value.isEmpty ? key : nil
        }
    }

    /// Reads `path`; a missing file is an empty one.
    public static func load(_ path: String) throws -> AWSSharedFile {
        guard FileManager.default.fileExists(atPath: path) else { return AWSSharedFile() }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw AWSConfigurationError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        return try AWSSharedFile(parsing: String(decoding: data, as: UTF8.self), path: path)
    }

    /// The settings of a profile: `[name]` in the credentials file.
    public func credentialsProfile(_ name: String) -> [String: String]? { sections[name] }

    /// The settings of a profile in the config file: `[profile name]`, or `[default]`.
    public func configProfile(_ name: String) -> [String: String]? {
        if let settings = sections["profile \(name)"] { return settings }
        return name == "default" ? sections["default"] : nil
    }

    /// `[services NAME]` → service key → setting.
    public func services(_ name: String) -> [String: [String: String]] { nested["services \(name)"] ?? [:] }

    private func stripComment(_ value: String) -> String {
        // Inline comments need white space before the marker, as in botocore.
        for marker in [" #", " ;", "\t#", "\t;"] {
            if let range = value.range(of: marker) {
                return value[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            }
        }
        return value
    }
}

/// Bad or unreadable AWS configuration; names the file and line, never a value.
public enum AWSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedFile(path: String, line: Int, reason: String)
    case unreadableFile(path: String, reason: String)
    case profileNotFound(String)
    case incompleteProfile(profile: String, path: String, missing: String)
    case noCredentials
    case noRegion
    case badSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case .malformedFile(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .unreadableFile(let path, let reason): return "cannot read \(path): \(reason)"
        case .profileNotFound(let name):
            return "AWS profile '\(name)' is in neither the config nor the credentials file"
        case .incompleteProfile(let profile, let path, let missing):
            return "\(path): profile '\(profile)' has no \(missing)"
        case .noCredentials:
            return
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `nepho register`"
        case .noRegion:
            return
                "no AWS region: pass --region, set AWS_REGION, or add region to the profile (`nepho register`)"
        case .badSetting(let name, let reason): return "\(name): \(reason)"
        }
    }
}
