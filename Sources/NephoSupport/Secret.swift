/// A value that must never be printed, logged or stored: it describes itself as
/// `<redacted>` and only `reveal()` gives the text back.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The secret text, for the one place that must send it (a signature, a pipe).
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

// `dump()` and debuggers walk stored properties through a mirror: show none.
extension Secret: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
