import Foundation
import NephoSupport

/// Nested stacks (`AWS::CloudFormation::Stack`) whose `TemplateURL` names a file of the
/// cloudlet (`TemplateURL: network.yaml`) instead of a URL. CloudFormation reads a nested
/// template from S3 only, so nepho uploads each such file (its own nested files first) and
/// sends the parent with the file's S3 URL in its place, as `aws cloudformation package`
/// does. The path is relative to the template that names it and must stay under the
/// cloudlet's `patterns/` (symbolic links resolved): a cloudlet cannot have nepho upload a
/// file from elsewhere on the machine.
public enum NestedTemplateFiles {
    /// Nesting deeper than this is refused (a loop of files naming each other included).
    public static let maximumDepth = 5
    /// CloudFormation's limit for a template read from S3.
    public static let maximumBytes = 1_000_000

    /// A file to upload, or why the path cannot name one.
    public enum Resolution: Sendable, Equatable {
        case file(URL)
        case refused(String)
    }

    /// One nested stack naming a file.
    public struct Reference: Sendable, Equatable {
        /// The nested stack's logical id.
        public var resource: String
        /// The `TemplateURL` as written.
        public var path: String
        /// Where the `TemplateURL` value is.
        public var mark: YAMLMark
    }

    /// The nested stacks of `document` whose `TemplateURL` is a plain string with no URL
    /// scheme (an intrinsic function, `https://…` or `s3://…` is CloudFormation's to read).
    public static func references(in document: YAMLNode) -> [Reference] {
        (document["Resources"]?.mapping ?? []).compactMap { pair in
            guard let id = pair.key.scalar, pair.value["Type"]?.scalar == "AWS::CloudFormation::Stack",
                let url = pair.value["Properties"]?["TemplateURL"], url.tag == nil,
                let path = url.scalar, !path.contains("://")
            else { return nil }
            return Reference(resource: id, path: path, mark: url.mark)
        }
    }

    /// The file `path` names from the template `template`: inside `patterns` once every
    /// symbolic link is resolved, and a regular file no larger than CloudFormation reads;
    /// otherwise why not.
    public static func resolve(_ path: String, from template: URL, patterns: URL) -> Resolution {
        if path.isEmpty { return .refused("is empty") }
        if path.hasPrefix("/") {
            return .refused("\"\(path)\" must be relative to the template that names it")
        }
        let file = template.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
            .resolvingSymlinksInPath()
        let root = patterns.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        guard file.path.hasPrefix(root) else {
            return .refused("\"\(path)\" leaves the cloudlet's patterns/ folder")
        }
        var info = stat()
        guard lstat(file.path, &info) == 0 else {
            return .refused("\"\(path)\" not found: expected \(file.path)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return .refused("\"\(path)\" is not a regular file (it is \(FileKind.describe(info.st_mode)))")
        }
        guard Int(info.st_size) <= maximumBytes else {
            return .refused("\"\(path)\" is \(info.st_size) bytes; CloudFormation reads templates up to 1 MB")
        }
        return .file(file)
    }

    /// `document` with the `TemplateURL` of each resource in `urls` set to its URL.
    public static func replacing(_ document: YAMLNode, urls: [String: String]) -> YAMLNode {
        guard !urls.isEmpty, var pairs = document.mapping,
            let index = pairs.firstIndex(where: { $0.key.scalar == "Resources" }),
            var resources = pairs[index].value.mapping
        else { return document }
        for (position, resource) in resources.enumerated() {
            guard let id = resource.key.scalar, let url = urls[id] else { continue }
            resources[position].value = setting(
                ["Properties", "TemplateURL"], to: .string(url), in: resource.value)
        }
        pairs[index].value.kind = .mapping(resources)
        var result = document
        result.kind = .mapping(pairs)
        return result
    }

    private static func setting(_ keys: [String], to value: YAMLNode, in node: YAMLNode) -> YAMLNode {
        guard let key = keys.first, var pairs = node.mapping,
            let index = pairs.firstIndex(where: { $0.key.scalar == key })
        else { return node }
        pairs[index].value =
            keys.count == 1 ? value : setting(Array(keys.dropFirst()), to: value, in: pairs[index].value)
        var result = node
        result.kind = .mapping(pairs)
        return result
    }

    /// Each file-naming nested stack of every template in `templates` (file → parsed
    /// document) whose file cannot be used, for `cloudlet:validate`.
    public static func problems(in templates: [(file: URL, document: YAMLNode)], patterns: URL)
        -> [CloudletProblem]
    {
        templates.flatMap { template in
            references(in: template.document).compactMap { reference in
                guard
                    case .refused(let why) = resolve(reference.path, from: template.file, patterns: patterns)
                else { return nil }
                return CloudletProblem(
                    file: template.file.path, mark: reference.mark,
                    message: "nested stack \(reference.resource): TemplateURL \(why)")
            }
        }
    }
}
