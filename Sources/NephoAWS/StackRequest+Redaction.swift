/// A stack request or parameter printed (in a log line, an error, a debugger) never
/// shows parameter values: any of them may be a NoEcho secret.
extension StackParameter: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        usePreviousValue ? "\(key)=<previous>" : "\(key)=<redacted>"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["key": key, "value": "<redacted>"]) }
}

extension StackRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let source: String
        switch template {
        case .body(let text): source = "inline template (\(text.utf8.count) bytes)"
        case .url(let url): source = "template \(url.absoluteString)"
        case nil: source = usePreviousTemplate ? "previous template" : "no template"
        }
        return
            "StackRequest(\(stackName), \(source), parameters: [\(parameters.map(\.description).joined(separator: ", "))], "
            + "tags: \(tags.map { "\($0.key)=\($0.value)" }), capabilities: \(capabilities))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
