import Foundation
import NephoSupport

/// One cloudlet in a registry index (docs/registry.md, "Index format").
public struct RegistryEntry: Codable, Sendable, Equatable {
    /// `owner/name`.
    public var name: String
    /// One line.
    public var summary: String
    public var description: String?
    /// The latest version: one of `versions`.
    public var version: String
    /// Every version offered, newest first; each is a git tag of `source`.
    public var versions: [String]
    /// The git repository (https, ssh or scp-like; file URLs only in local registries).
    public var source: String
    public var author: String?
    public var license: String?
    /// An http(s) page about the project.
    public var projectPage: String?
    public var keywords: [String]

    public init(
        name: String, summary: String, description: String? = nil, version: String, versions: [String],
        source: String, author: String? = nil, license: String? = nil, projectPage: String? = nil,
        keywords: [String] = []
    ) {
        self.name = name
        self.summary = summary
        self.description = description
        self.version = version
        self.versions = versions
        self.source = source
        self.author = author
        self.license = license
        self.projectPage = projectPage
        self.keywords = keywords
    }

    enum CodingKeys: String, CodingKey {
        case name, summary, description, version, versions, source, author, license, keywords
        case projectPage = "project_page"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        summary = try c.decode(String.self, forKey: .summary)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        version = try c.decode(String.self, forKey: .version)
        versions = try c.decode([String].self, forKey: .versions)
        source = try c.decode(String.self, forKey: .source)
        author = try c.decodeIfPresent(String.self, forKey: .author)
        license = try c.decodeIfPresent(String.self, forKey: .license)
        projectPage = try c.decodeIfPresent(String.self, forKey: .projectPage)
        keywords = try c.decodeIfPresent([String].self, forKey: .keywords) ?? []
    }

    /// The folder name an installed copy gets by default: `owner-name`.
    public var folderName: String { name.replacingOccurrences(of: "/", with: "-") }

    /// The tag for a requested version: the exact tag, or the tag with or without a leading `v`.
    public func tag(for requested: String) -> String? {
        if versions.contains(requested) { return requested }
        if let tag = versions.first(where: { $0 == "v" + requested }) { return tag }
        if requested.hasPrefix("v"), let tag = versions.first(where: { "v" + $0 == requested }) { return tag }
        return nil
    }

    /// Problems that make the entry unsafe or unusable, each naming the field.
    /// - Parameter allowLocalSources: true for registries on this machine (`file://`).
    public func problems(allowLocalSources: Bool) -> [(field: String, message: String)] {
        var found: [(String, String)] = []
        if let problem = RegistryName.problem(name) { found.append(("name", problem)) }
        if summary.isEmpty { found.append(("summary", "is empty")) }
        if summary.count > RegistryLimits.summaryLength {
            found.append(("summary", "is longer than \(RegistryLimits.summaryLength) characters"))
        }
        if summary.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            found.append(("summary", "contains control characters (it must be one line)"))
        }
        if let description, description.count > RegistryLimits.descriptionLength {
            found.append(("description", "is longer than \(RegistryLimits.descriptionLength) characters"))
        }
        if versions.isEmpty {
            found.append(("versions", "is empty (list at least the latest version's tag)"))
        }
        for tag in versions where (try? GitSafety.checkReference(tag)) == nil {
            found.append(("versions", "'\(tag)' is not an acceptable git tag"))
        }
        if !versions.isEmpty, !versions.contains(version) {
            found.append(("version", "'\(version)' is not one of the versions \(versions)"))
        }
        do {
            let checked = try GitSource(source, relativeTo: URL(fileURLWithPath: "/"))
            if checked.isLocal && !allowLocalSources {
                found.append(
                    ("source", "a local path or file URL is only allowed in a registry on this machine"))
            }
        } catch {
            found.append(("source", error.description))
        }
        if let page = projectPage {
            let lower = page.lowercased()
            if !(lower.hasPrefix("https://") || lower.hasPrefix("http://"))
                || page.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
            {
                found.append(("project_page", "must be an http or https URL"))
            }
        }
        for keyword in keywords where keyword.isEmpty || keyword.count > 50 {
            found.append(("keywords", "'\(keyword)' must be 1 to 50 characters"))
        }
        return found
    }
}

/// Size limits of a registry index and its entries.
public enum RegistryLimits {
    /// The largest index accepted, in bytes (32 MiB; 10,000 cloudlets take about 5 MB).
    public static let indexBytes = 32 * 1024 * 1024
    public static let summaryLength = 300
    public static let descriptionLength = 20_000
}
