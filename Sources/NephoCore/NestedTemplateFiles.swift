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

    /// At most this many nested references are followed from one template (a cloudlet
    /// naming the same file over and over must not make nepho work for ever).
    public static let maximumReferences = 200

    /// Every problem of the nested files `document` (the template `file`) names, at any
    /// depth: a path that cannot be used, a loop, nesting deeper than `maximumDepth`, a file
    /// that does not parse, too many references. Each file's references are checked once
    /// (`visited`, shared between calls), so a file named from several places costs once.
    public static func problems(
        of file: URL, document: YAMLNode, patterns: URL, visited: inout Set<URL>, chain: [URL] = [],
        budget: inout Int
    ) -> [CloudletProblem] {
        guard visited.insert(file.standardizedFileURL).inserted else { return [] }
        var problems: [CloudletProblem] = []
        for reference in references(in: document) {
            func problem(_ why: String) {
                problems.append(
                    CloudletProblem(
                        file: file.path, mark: reference.mark,
                        message: "nested stack \(reference.resource): TemplateURL \(why)"))
            }
            budget -= 1
            guard budget >= 0 else {
                problem("is one reference too many: a template leads to at most \(maximumReferences)")
                break
            }
            let child: URL
            switch resolve(reference.path, from: file, patterns: patterns) {
            case .refused(let why):
                problem(why)
                continue
            case .file(let url): child = url
            }
            if child == file.standardizedFileURL.resolvingSymlinksInPath() || chain.contains(child) {
                problem("\"\(reference.path)\" is a template that names it in turn (a loop)")
                continue
            }
            if chain.count + 1 > maximumDepth {
                problem("nests templates more than \(maximumDepth) deep")
                continue
            }
            do {
                let parsed = try YAMLParser().parseFile(child)
                problems += Self.problems(
                    of: child, document: parsed, patterns: patterns, visited: &visited,
                    chain: chain + [file.standardizedFileURL.resolvingSymlinksInPath()], budget: &budget)
            } catch let error as YAMLError {
                problems.append(CloudletProblem(error))
            } catch {
                problem("\"\(reference.path)\" cannot be read: \(error)")
            }
        }
        return problems
    }

    /// The first problem of the nested files `document` (the template `file`) leads to, as
    /// one line naming the file and line, or nil: what a create or update refuses before
    /// any call.
    public static func firstProblem(of file: URL, document: YAMLNode, patterns: URL) -> String? {
        var visited: Set<URL> = []
        var budget = maximumReferences
        guard
            let first = problems(
                of: file, document: document, patterns: patterns, visited: &visited, budget: &budget
            ).first
        else { return nil }
        return first.mark.line > 0
            ? "\(first.file):\(first.mark.line): \(first.message)" : "\(first.file): \(first.message)"
    }
}
