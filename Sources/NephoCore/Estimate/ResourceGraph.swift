import Foundation
import NephoSupport

/// A template's resources and what each waits for: `DependsOn`, and the resources its
/// properties name with `Ref`, `Fn::GetAtt` and `Fn::Sub` (long form or `!Ref`, `!GetAtt`,
/// `!Sub`). A nested stack (`AWS::CloudFormation::Stack`) carries the graph of its own
/// template when the loader can read it (a `TemplateURL` that is a file of the cloudlet).
public struct ResourceGraph: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var id: String
        public var type: String
        /// The resources of the same template it waits for.
        public var dependsOn: Set<String>
        /// A nested stack's own resources.
        public var nested: ResourceGraph?

        public init(id: String, type: String, dependsOn: Set<String> = [], nested: ResourceGraph? = nil) {
            self.id = id
            self.type = type
            self.dependsOn = dependsOn
            self.nested = nested
        }
    }

    /// In template order.
    public var nodes: [Node]

    public init(nodes: [Node]) { self.nodes = nodes }

    public subscript(id: String) -> Node? { nodes.first { $0.id == id } }

    /// Every resource, nested stacks' included (a nested stack counts itself and its resources).
    public var totalResources: Int {
        nodes.reduce(0) { $0 + 1 + ($1.nested?.totalResources ?? 0) }
    }

    /// The graph of a parsed template. `load` reads a nested stack's template from its
    /// `TemplateURL` and the `TemplateURL`s that led to the template naming it, from the
    /// root down (a relative path is relative to the template naming it; nil when it
    /// cannot); nesting stops after `depth` levels.
    public static func from(
        template root: YAMLNode, load: (_ url: String, _ parents: [String]) -> YAMLNode? = { _, _ in nil },
        depth: Int = 5, parents: [String] = []
    ) -> ResourceGraph {
        guard let resources = root["Resources"]?.mapping else { return ResourceGraph(nodes: []) }
        let ids = Set(resources.compactMap { $0.key.scalar })
        var nodes: [Node] = []
        for pair in resources {
            guard let id = pair.key.scalar else { continue }
            let body = pair.value
            var dependsOn = Set<String>()
            if let node = body["DependsOn"] {
                if let scalar = node.scalar { dependsOn.insert(scalar) }
                for item in node.sequence ?? [] { if let scalar = item.scalar { dependsOn.insert(scalar) } }
            }
            for key in ["Properties", "Metadata", "Condition", "CreationPolicy", "UpdatePolicy"] {
                if let node = body[key] { references(node, into: &dependsOn) }
            }
            dependsOn.remove(id)
            dependsOn.formIntersection(ids)
            let type = body["Type"]?.scalar ?? ""
            var nested: ResourceGraph?
            if type == "AWS::CloudFormation::Stack", depth > 0,
                let url = body["Properties"]?["TemplateURL"]?.scalar, let child = load(url, parents)
            {
                nested = from(template: child, load: load, depth: depth - 1, parents: parents + [url])
            }
            nodes.append(Node(id: id, type: type, dependsOn: dependsOn, nested: nested))
        }
        return ResourceGraph(nodes: nodes)
    }

    /// The names `node` refers to (resources, parameters, pseudo parameters alike: the
    /// caller keeps the resources).
    static func references(_ node: YAMLNode, into names: inout Set<String>) {
        switch node.tag {
        case "!Ref":
            if let name = node.scalar { names.insert(name) }
            return
        case "!GetAtt":
            if let text = node.scalar {
                names.insert(String(text.prefix { $0 != "." }))
            } else if let first = node.sequence?.first?.scalar {
                names.insert(first)
            }
            return
        case "!Sub":
            sub(node, into: &names)
            return
        default: break
        }
        switch node.kind {
        case .scalar: return
        case .sequence(let items):
            for item in items { references(item, into: &names) }
        case .mapping(let pairs):
            if pairs.count == 1, let key = pairs[0].key.scalar {
                let value = pairs[0].value
                switch key {
                case "Ref":
                    if let name = value.scalar { names.insert(name) }
                    return
                case "Fn::GetAtt":
                    if let first = value.sequence?.first?.scalar {
                        names.insert(first)
                    } else if let text = value.scalar {
                        names.insert(String(text.prefix { $0 != "." }))
                    }
                    if let items = value.sequence {
                        for item in items.dropFirst() { references(item, into: &names) }
                    }
                    return
                case "Fn::Sub":
                    sub(value, into: &names)
                    return
                default: break
                }
            }
            for pair in pairs { references(pair.value, into: &names) }
        }
    }

    /// `Fn::Sub`'s `${Name}` and `${Name.Attribute}` (not `${!Literal}`), and in the list
    /// form the references of its variables' values (whose own names are not resources).
    static func sub(_ node: YAMLNode, into names: inout Set<String>) {
        var text = node.scalar
        var local = Set<String>()
        if let items = node.sequence {
            text = items.first?.scalar
            if items.count > 1 {
                for pair in items[1].mapping ?? [] {
                    if let name = pair.key.scalar { local.insert(name) }
                    references(pair.value, into: &names)
                }
            }
        }
        guard let text else { return }
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: "}") else { break }
            let inside = rest[..<close]
            rest = rest[rest.index(after: close)...]
            if inside.hasPrefix("!") { continue }
            let name = String(inside.prefix { $0 != "." }).trimmingCharacters(in: .whitespaces)
            if !local.contains(name) { names.insert(name) }
        }
    }
}
