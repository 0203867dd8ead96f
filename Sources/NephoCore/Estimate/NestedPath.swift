/// How the events of a nested stack are named in a build's log (docs/formations.md,
/// "Nested stacks"): each under the path of logical ids from the root stack to its nested
/// stack, joined by `/` (`Child/Bucket`, `Child/Grandchild/Queue`). CloudFormation's logical
/// ids are alphanumeric, so no root resource has such a name. A nested stack's own
/// stack-level events are stored as `PATH/STACK-NAME`: CloudFormation names a nested stack
/// `PARENT-LOGICALID-SUFFIX`, and a name with a dash is no logical id, so those rows are
/// never taken for a resource (nor for the root stack's own events).
public enum NestedPath {
    public static let separator: Character = "/"

    /// `logicalID` of the nested stack at `path` ("" for the root).
    public static func qualify(_ logicalID: String, in path: String) -> String {
        path.isEmpty ? logicalID : "\(path)\(separator)\(logicalID)"
    }

    /// The path of the stack an event's (qualified) logical id belongs to; "" for the root.
    public static func parent(of id: String) -> String {
        guard let slash = id.lastIndex(of: separator) else { return "" }
        return String(id[..<slash])
    }

    /// The logical id within its own stack.
    public static func leaf(of id: String) -> String {
        guard let slash = id.lastIndex(of: separator) else { return id }
        return String(id[id.index(after: slash)...])
    }

    /// True for a row of a nested stack's own stack-level events (`PATH/STACK-NAME`).
    public static func isStackRow(_ id: String) -> Bool {
        id.contains(separator) && !isLogicalID(leaf(of: id))
    }

    /// CloudFormation's rule for a logical id: letters and digits only.
    public static func isLogicalID(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0)
            }
    }

    /// The ids of `ids` at `path` and below, relative to it (`Child/Bucket` → `Bucket` for
    /// path `Child`).
    public static func strip<Value>(_ ids: [String: Value], below path: String) -> [String: Value] {
        let prefix = path + String(separator)
        var result: [String: Value] = [:]
        for (id, value) in ids where id.hasPrefix(prefix) {
            result[String(id.dropFirst(prefix.count))] = value
        }
        return result
    }
}
