import Foundation
import NephoSupport

/// The metadata in a cloudlet's `cloudlet.yaml`.
public struct CloudletManifest: Sendable, Equatable {
    public var name: String
    public var version: String?
    public var source: String?
    public var author: String?
    public var license: String?
    public var summary: String?
    public var description: String?
    public var projectPage: String?
    public var keywords: [String]
    /// The cloudlet layer of parameters.
    public var parameters: [ParameterSpec]

    public static let fileName = "cloudlet.yaml"
    static let keys = [
        "name", "version", "source", "author", "license", "summary", "description", "project_page",
        "keywords",
        "parameters", "submodules",
    ]

    /// Reads `cloudlet.yaml` in `folder`. Problems go to `problems`; nil when it is unusable.
    static func read(folder: URL, problems: inout [CloudletProblem]) -> CloudletManifest? {
        let url = folder.appendingPathComponent(fileName)
        let file = url.path
        guard FileManager.default.fileExists(atPath: file) else {
            problems.append(
                CloudletProblem(file: file, message: "missing \(fileName): every cloudlet needs one"))
            return nil
        }
        guard let root = CloudletProblem.parse(url, into: &problems) else { return nil }
        var reader = FieldReader(file: file)
        defer { problems += reader.problems }
        guard let map = reader.mapping(root, what: fileName) else { return nil }
        reader.checkKeys(map, known: keys, what: fileName)
        let name = reader.string(map, "name", required: true)
        if let name, let problem = CloudletName.problem(name), let node = map["name"] {
            reader.error(node, problem)
        }
        let version = reader.string(map, "version")
        if let version, let node = map["version"], !SemanticVersion.isValid(version) {
            reader.warning(node, "version \"\(version)\" is not a semantic version such as 1.2.0")
        }
        let manifest = CloudletManifest(
            name: name ?? "", version: version, source: reader.string(map, "source"),
            author: reader.string(map, "author"), license: reader.string(map, "license"),
            summary: reader.string(map, "summary"), description: reader.string(map, "description"),
            projectPage: reader.string(map, "project_page"), keywords: reader.stringList(map, "keywords"),
            parameters: ParameterSpec.readAll(map, key: "parameters", reader: &reader))
        return name == nil ? nil : manifest
    }
}

/// Rules for cloudlet names: `name` or `owner/name`, lower-case letters, digits, `-`, `_`, `.`.
public enum CloudletName {
    /// Why `name` cannot be a cloudlet name, or nil when it can.
    public static func problem(_ name: String) -> String? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "cloudlet name \"\(name)\" has more than one \"/\"" }
        for part in parts {
            guard let first = part.first, first.isASCII, first.isLetter || first.isNumber else {
                return "cloudlet name \"\(name)\" must start each part with a letter or digit"
            }
            guard part.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) }),
                !part.contains("..")
            else {
                return
                    "cloudlet name \"\(name)\" may use only lower-case letters, digits, \"-\", \"_\" and \".\""
            }
            if part.count > 100 { return "cloudlet name \"\(name)\" is too long" }
        }
        return nil
    }

    /// The folder a cloudlet of this name is installed in: `owner/name` → `owner-name`.
    public static func folderName(_ name: String) -> String {
        name.replacingOccurrences(of: "/", with: "-")
    }

    /// The part after `owner/`.
    public static func shortName(_ name: String) -> String {
        name.split(separator: "/").last.map(String.init) ?? name
    }
}

/// `MAJOR.MINOR.PATCH` with optional `-pre` and `+build`, and an optional leading `v`.
public enum SemanticVersion {
    public static func isValid(_ text: String) -> Bool {
        var core = Substring(text)
        if core.first == "v" { core = core.dropFirst() }
        if let plus = core.firstIndex(of: "+") { core = core[..<plus] }
        if let dash = core.firstIndex(of: "-") { core = core[..<dash] }
        let numbers = core.split(separator: ".", omittingEmptySubsequences: false)
        return numbers.count == 3 && numbers.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
