import Foundation

/// One line of `vagrant --machine-readable` output: `timestamp,target,type,data…`.
///
/// Vagrant's `Vagrant::UI::MachineReadable#machine` writes each data field after
/// replacing `,` with `%!(VAGRANT_COMMA)`, a newline with the two characters `\n` and a
/// carriage return with `\r`, then joins the fields with commas. `parse` splits on the
/// commas and undoes those three escapes in each field. The escaping is lossy: a field
/// that really contained a backslash followed by `n` reads back as a newline.
public struct VagrantMachineReadableLine: Sendable, Equatable {
    /// Seconds since 1970 (UTC), as Vagrant printed them.
    public var timestamp: Int
    /// The machine's name (`default`), or empty for the environment as a whole.
    public var target: String
    /// `ui`, `action`, `state`, `metadata`, `error-exit`, `ssh-config`, …
    public var type: String
    /// The data fields, unescaped.
    public var data: [String]

    public init(timestamp: Int, target: String, type: String, data: [String]) {
        self.timestamp = timestamp
        self.target = target
        self.type = type
        self.data = data
    }

    /// Parses one line (without its newline); nil when it is not machine-readable
    /// output, such as a plugin writing to standard output directly.
    public static func parse<S: StringProtocol>(_ line: S) -> VagrantMachineReadableLine? {
        var text = Substring(line)
        if text.hasSuffix("\r") { text = text.dropLast() }
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 3, let timestamp = Int(fields[0]), !fields[2].isEmpty else { return nil }
        return VagrantMachineReadableLine(
            timestamp: timestamp, target: unescape(fields[1]), type: unescape(fields[2]),
            data: fields.dropFirst(3).map(unescape))
    }

    /// Undoes Vagrant's escapes in one field.
    public static func unescape<S: StringProtocol>(_ field: S) -> String {
        var text = String(field)
        guard text.contains("%!(") || text.contains("\\") else { return text }
        text = text.replacingOccurrences(of: "%!(VAGRANT_COMMA)", with: ",")
        text = text.replacingOccurrences(of: "\\n", with: "\n")
        text = text.replacingOccurrences(of: "\\r", with: "\r")
        return text
    }

    /// Escapes one field the way Vagrant does (for tests and transcripts).
    public static func escape(_ field: String) -> String {
        field.replacingOccurrences(of: ",", with: "%!(VAGRANT_COMMA)")
            .replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
    }

    /// The line as Vagrant prints it.
    public var rendered: String {
        ([String(timestamp), Self.escape(target), Self.escape(type)] + data.map(Self.escape)).joined(
            separator: ",")
    }
}
