import Foundation
import NephoSupport

/// Checks a template's sections, resources, outputs and conditions as its transforms
/// make them: `Fn::ForEach` loops with `AWS::LanguageExtensions`, `Globals` and
/// `AWS::Serverless::*` with SAM. Under a transform nepho does not know (a macro) these
/// problems are warnings, and one warning names the transform.
struct TemplateChecker {
    var reader: FieldReader
    let transforms: [TemplateTransform]
    /// Each resource as written, those inside loops with their key (`Topic${Name}`).
    private(set) var resources: [(id: String, type: String)] = []

    static let forEachPrefix = "Fn::ForEach::"

    /// The sections whose entries may be `Fn::ForEach` loops.
    enum Section: String {
        case resources = "Resources", outputs = "Outputs", conditions = "Conditions"

        var noun: String {
            switch self {
            case .resources: return "resource"
            case .outputs: return "output"
            case .conditions: return "condition"
            }
        }
    }

    init(reader: FieldReader, transforms: [TemplateTransform]) {
        self.reader = reader
        self.transforms = transforms
    }

    /// The transforms whose output nepho cannot see.
    var unknownTransforms: [TemplateTransform] { transforms.filter { !$0.isKnown } }

    /// An error, or a warning when a transform nepho does not know may rewrite the template.
    mutating func problem(_ node: YAMLNode, _ message: String) {
        if unknownTransforms.isEmpty { reader.error(node, message) } else { reader.warning(node, message) }
    }

    // MARK: sections

    /// The one warning saying that a macro may rewrite the template.
    mutating func sayUnknownTransforms(at node: YAMLNode) {
        let names = unknownTransforms.map { "\"\($0.name)\"" }
        guard !names.isEmpty else { return }
        let which =
            names.count == 1 ? "transform \(names[0]) is" : "transforms \(names.joined(separator: ", ")) are"
        reader.warning(
            node,
            "\(which) not one nepho knows (a macro?): CloudFormation runs it before anything else and it may rewrite the template, so nepho reports problems in its sections and resources as warnings"
        )
    }

    mutating func checkSections(_ map: YAMLNode) {
        let allowed = CloudFormationTemplate.sections + transforms.flatMap(\.sections)
        for pair in map.mapping ?? [] {
            guard let key = pair.key.scalar, !allowed.contains(key) else { continue }
            var message = "\"\(key)\" is not a CloudFormation template section"
            switch key {
            case "Globals":
                message += ": it is SAM's; add Transform: AWS::Serverless-2016-10-31"
            case "Hooks":
                message += ": it belongs to Transform: AWS::CodeDeployBlueGreen"
            case "Modules":
                message +=
                    ": local modules are inlined by a packager (e.g. rain pkg) before CloudFormation sees the template; make the packaged template the pattern"
            default:
                break
            }
            problem(pair.key, message)
        }
        if let globals = map["Globals"], transforms.contains(.serverless) {
            checkGlobals(globals)
        }
        for section in ["Parameters", "Mappings", "Metadata", "Rules"] {
            for pair in map[section]?.mapping ?? []
            where pair.key.scalar?.hasPrefix(Self.forEachPrefix) == true {
                problem(
                    pair.key,
                    "Fn::ForEach cannot be used in \(section); CloudFormation expands it in Resources, Outputs and Conditions only"
                )
            }
        }
    }

    private mutating func checkGlobals(_ globals: YAMLNode) {
        guard let pairs = globals.mapping else {
            problem(
                globals, "Globals must be a mapping (Function:, Api:, …), found \(globals.kindDescription)")
            return
        }
        for pair in pairs {
            guard let key = pair.key.scalar, !TemplateTransform.serverlessGlobals.contains(key) else {
                continue
            }
            let hint = TemplateTransform.serverlessGlobals.min {
                editDistance($0, key) < editDistance($1, key)
            }
            let suggestion =
                hint.flatMap { editDistance($0, key) <= 3 ? " (did you mean \"\($0)\"?)" : nil } ?? ""
            reader.warning(pair.key, "\"\(key)\" is not a SAM Globals section nepho knows\(suggestion)")
        }
    }

    // MARK: entries

    /// Resources, Outputs and Conditions: each entry, and each loop's entries.
    mutating func checkEntries(_ map: YAMLNode) {
        if let node = map["Resources"], let pairs = node.mapping, !pairs.isEmpty {
            let ids = Set(pairs.compactMap(\.key.scalar))
            for pair in pairs { entry(pair, in: .resources, logicalIDs: ids) }
        } else {
            problem(
                map["Resources"] ?? map, "a template needs a Resources section with at least one resource")
        }
        for section in [Section.outputs, .conditions] {
            guard let node = map[section.rawValue], !node.isNull else { continue }
            guard let pairs = node.mapping else {
                problem(node, "\(section.rawValue) must be a mapping, found \(node.kindDescription)")
                continue
            }
            for pair in pairs { entry(pair, in: section, logicalIDs: []) }
        }
    }

    private mutating func entry(_ pair: YAMLPair, in section: Section, logicalIDs: Set<String>) {
        let key = pair.key.scalar ?? ""
        if key.hasPrefix(Self.forEachPrefix) {
            loop(pair, in: section, logicalIDs: logicalIDs)
        } else if key == "Fn::Transform" {
            snippet(pair)
        } else {
            switch section {
            case .resources: resource(pair)
            case .outputs: output(pair)
            case .conditions: condition(pair)
            }
        }
    }

    /// `Fn::Transform` in place of entries: a macro (or `AWS::Include`) inserts them.
    private mutating func snippet(_ pair: YAMLPair) {
        guard pair.value.mapping != nil, pair.value["Name"]?.scalar != nil else {
            problem(
                pair.value,
                "Fn::Transform needs a mapping with the transform's Name (e.g. Name: AWS::Include)")
            return
        }
    }

    private mutating func resource(_ pair: YAMLPair) {
        let id = pair.key.scalar ?? ""
        guard pair.value.mapping != nil else {
            problem(pair.value, "resource \(id) must be a mapping with a Type")
            return
        }
        guard let typeNode = pair.value["Type"], let type = typeNode.scalar, !type.isEmpty else {
            problem(pair.key, "resource \(id) has no Type")
            return
        }
        resources.append((id, type))
        if typeNode.tag?.hasPrefix(RainDirective.tagPrefix) == true {
            return  // reported with every other rain directive
        }
        if Self.isFilePath(type) {
            let file = URL(fileURLWithPath: reader.file).lastPathComponent
            problem(
                typeNode,
                "resource \(id) has Type \"\(type)\", a path to a file: a module, as rain writes them, that a packager inlines before CloudFormation sees the template (CloudFormation reads no local files). Package the template first (e.g. rain pkg \(file) -o packaged-\(file)) and make the packaged template the pattern"
            )
        } else if type.hasPrefix("AWS::Serverless::") {
            if !transforms.contains(.serverless) {
                problem(
                    typeNode,
                    "resource \(id) has Type \(type), which needs Transform: AWS::Serverless-2016-10-31 (SAM)"
                )
            } else if !TemplateTransform.serverlessTypes.contains(type) {
                let hint = TemplateTransform.serverlessTypes.min {
                    editDistance($0, type) < editDistance($1, type)
                }
                let suggestion =
                    hint.flatMap { editDistance($0, type) <= 3 ? " (did you mean \($0)?)" : nil } ?? ""
                reader.warning(typeNode, "resource \(id): \(type) is not a SAM type nepho knows\(suggestion)")
            }
        } else if !type.hasPrefix("AWS::") && !type.hasPrefix("Custom::") && !type.contains("::") {
            problem(typeNode, "resource \(id) has an unknown Type \"\(type)\"")
        }
    }

    private mutating func output(_ pair: YAMLPair) {
        let name = pair.key.scalar ?? ""
        guard pair.value.mapping != nil, pair.value["Value"] != nil else {
            problem(
                pair.value.mapping == nil ? pair.value : pair.key,
                "output \(name) must be a mapping with a Value")
            return
        }
    }

    private mutating func condition(_ pair: YAMLPair) {
        guard !Self.isIntrinsic(pair.value) else { return }
        problem(
            pair.value,
            "condition \(pair.key.scalar ?? "") must be a condition function (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition), found \(pair.value.kindDescription)"
        )
    }

    // MARK: Fn::ForEach

    /// `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]`: each
    /// OutputKey carries `${Identifier}` or `&{Identifier}`; each OutputValue is checked as
    /// an entry of `section` (loops may nest).
    private mutating func loop(_ pair: YAMLPair, in section: Section, logicalIDs: Set<String>) {
        let key = pair.key.scalar ?? ""
        let name = key.dropFirst(Self.forEachPrefix.count)
        if !transforms.contains(.languageExtensions) {
            problem(pair.key, "\(key) needs Transform: AWS::LanguageExtensions, which expands Fn::ForEach")
        } else if let sam = transforms.firstIndex(of: .serverless),
            let language = transforms.firstIndex(of: .languageExtensions), sam < language
        {
            problem(
                pair.key,
                "\(key) reaches SAM unexpanded: list AWS::LanguageExtensions before AWS::Serverless-2016-10-31 in Transform (CloudFormation runs them in order)"
            )
        }
        if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            problem(pair.key, "the loop name \"\(name)\" of \(key) must be letters and digits only")
        } else if logicalIDs.contains(String(name)) {
            problem(pair.key, "the loop name \"\(name)\" of \(key) is also a resource's logical id")
        }
        guard let items = pair.value.sequence, Self.isPlain(pair.value), items.count == 3 else {
            let found =
                pair.value.sequence.map { "a list of \($0.count)" } ?? pair.value.kindDescription
            problem(
                pair.value,
                "\(key) must be a list of three: an identifier, a collection, and a mapping whose keys contain ${Identifier}; found \(found)"
            )
            return
        }
        guard let identifier = items[0].scalar, Self.isPlain(items[0]),
            !identifier.trimmingCharacters(in: .whitespaces).isEmpty
        else {
            problem(
                items[0],
                "the identifier of \(key) (its first item) must be a name, found \(items[0].kindDescription)")
            return
        }
        checkCollection(items[1], of: key)
        guard let body = items[2].mapping, Self.isPlain(items[2]), !body.isEmpty else {
            problem(
                items[2],
                "the third item of \(key) must be a mapping of \(section.noun)s whose keys contain ${\(identifier)}, found \(items[2].kindDescription)"
            )
            return
        }
        for inner in body {
            let innerKey = inner.key.scalar ?? ""
            if !innerKey.hasPrefix(Self.forEachPrefix), innerKey != "Fn::Transform",
                !innerKey.contains("${\(identifier)}"), !innerKey.contains("&{\(identifier)}")
            {
                problem(
                    inner.key,
                    "\(section.noun) \(innerKey) in \(key) must have ${\(identifier)} or &{\(identifier)} in its name, so that each pass of the loop makes a \(section.noun) of its own"
                )
            }
            entry(inner, in: section, logicalIDs: logicalIDs)
        }
    }

    private mutating func checkCollection(_ node: YAMLNode, of key: String) {
        if Self.isIntrinsic(node) { return }
        if let items = node.sequence, Self.isPlain(node) {
            for item in items where (item.scalar == nil || !Self.isPlain(item)) && !Self.isIntrinsic(item) {
                problem(
                    item, "the values of the collection of \(key) must be text, found \(item.kindDescription)"
                )
            }
            return
        }
        problem(
            node,
            "the collection of \(key) (its second item) must be a list, or a function that gives one (e.g. !Ref of a CommaDelimitedList parameter), found \(node.kindDescription)"
        )
    }

    // MARK: helpers

    /// A node without a tag of its own (`!Ref`, …); the core schema's tags do not count.
    static func isPlain(_ node: YAMLNode) -> Bool {
        node.tag == nil || node.tag?.hasPrefix("tag:yaml.org,2002:") == true
    }

    /// An intrinsic function: a short-form tag (`!Ref Names`, `!Split [",", …]`), or a
    /// mapping of one key `Ref`, `Condition` or `Fn::…`.
    static func isIntrinsic(_ node: YAMLNode) -> Bool {
        if !isPlain(node) { return true }
        guard let pairs = node.mapping, pairs.count == 1, let key = pairs[0].key.scalar else { return false }
        return key == "Ref" || key == "Condition" || key.hasPrefix("Fn::")
    }

    /// A `Type` that names a file (rain's modules): a path, or a template's file extension.
    static func isFilePath(_ type: String) -> Bool {
        let lower = type.lowercased()
        return type.contains("/") || type.hasPrefix("~")
            || [".yml", ".yaml", ".json", ".template"].contains { lower.hasSuffix($0) }
    }
}

/// rain's directives (`!Rain::Embed`, `!Rain::Module`, …): `rain pkg` replaces them;
/// CloudFormation does not know them.
enum RainDirective {
    static let tagPrefix = "!Rain::"

    /// An error at each rain directive in the document.
    static func check(_ node: YAMLNode, reader: inout FieldReader) {
        let file = URL(fileURLWithPath: reader.file).lastPathComponent
        func walk(_ node: YAMLNode) {
            if let tag = node.tag, tag.hasPrefix(tagPrefix) {
                let package =
                    "package the template first (e.g. rain pkg \(file) -o packaged-\(file)) and make the packaged template the pattern"
                if tag == "!Rain::Module" {
                    let target = node.scalar.map { " \"\($0)\"" } ?? ""
                    reader.error(
                        node,
                        "!Rain::Module\(target) is one of rain's modules, which rain pkg inlines before CloudFormation sees the template (CloudFormation reads no local files): \(package)"
                    )
                } else {
                    reader.error(
                        node,
                        "\(tag) is a directive of rain's, which CloudFormation does not know: \(package)")
                }
            }
            switch node.kind {
            case .scalar: break
            case .sequence(let items): for item in items { walk(item) }
            case .mapping(let pairs):
                for pair in pairs {
                    walk(pair.key)
                    walk(pair.value)
                }
            }
        }
        walk(node)
    }

}
