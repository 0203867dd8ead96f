import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

/// Writes a command's result as text for people, or as stable JSON or YAML for
/// programs (docs/output.md). Colour only on a terminal, and never with `NO_COLOR`.
public struct Renderer: Sendable {
    public var format: OutputFormat
    public var color: Bool

    public init(format: OutputFormat, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.format = format
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        color = !noColor && isatty(STDOUT_FILENO) == 1 && environment["TERM"] != "dumb"
    }

    /// Prints `value` as JSON or YAML, or calls `text` to print it for people.
    public func emit<T: Encodable>(_ value: T, text: (inout TextOutput) -> Void) throws {
        switch format {
        case .json:
            FileHandle.standardOutput.write(try Self.json(value) + Data("\n".utf8))
        case .yaml:
            FileHandle.standardOutput.write(
                Data(try YAMLEmitter.emit(try YAMLNode.fromJSON(try Self.json(value))).utf8))
        case .text:
            var output = TextOutput(color: color)
            text(&output)
            FileHandle.standardOutput.write(Data(TerminalText.safe(output.text).utf8))
        }
    }

    /// One item of a build command's stream (docs/output.md, "Streams"): with `-o json`
    /// one compact JSON object a line (JSON Lines), with `-o yaml` one YAML document
    /// opened by `---`. Nothing in text mode.
    public func streamItem<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard format != .text, let data = try? encoder.encode(value) else { return }
        if format == .yaml {
            guard let node = try? YAMLNode.fromJSON(data), let text = try? YAMLEmitter.emit(node) else {
                return
            }
            FileHandle.standardOutput.write(Data(("---\n" + text).utf8))
        } else {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Reports `error` on standard error (as JSON with `-o json`) and gives the exit code.
    public func report(_ error: Error) -> ExitCode {
        let nepho: NephoError
        switch error {
        case let known as NephoError: nepho = known
        default: nepho = NephoError(.internalError, "\(error)")
        }
        switch format {
        case .json, .yaml:
            struct Envelope: Encodable {
                let error: NephoError
            }
            if let data = try? Self.json(Envelope(error: nepho)) {
                FileHandle.standardError.write(data + Data("\n".utf8))
            }
        case .text:
            let stderrColor = color && isatty(STDERR_FILENO) == 1
            let label = stderrColor ? "\u{1B}[1;31merror:\u{1B}[0m" : "error:"
            var text = "\(label) \(nepho.message)\n"
            for detail in nepho.details { text += "  \(detail)\n" }
            FileHandle.standardError.write(Data(TerminalText.safe(text).utf8))
        }
        return ExitCode(Self.exitStatus(nepho.code))
    }

    /// Exit statuses by error code (docs/output.md).
    static func exitStatus(_ code: NephoError.Code) -> Int32 {
        switch code {
        case .notFound: return 3
        case .invalidInput, .missingParameters: return 4
        case .conflict: return 5
        case .missingCredentials, .permissionDenied: return 6
        case .versionMismatch, .handshakeRequired: return 7
        default: return 1
        }
    }
}

/// Text for people, with optional ANSI styling.
public struct TextOutput: Sendable {
    public let color: Bool
    public private(set) var text = ""

    public init(color: Bool) { self.color = color }

    public mutating func line(_ line: String = "") { text += line + "\n" }

    /// Text that already ends its own lines.
    public mutating func raw(_ block: String) { text += block }

    public func bold(_ text: String) -> String { color ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    public func dim(_ text: String) -> String { color ? "\u{1B}[2m\(text)\u{1B}[0m" : text }
    public func red(_ text: String) -> String { color ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    public func yellow(_ text: String) -> String { color ? "\u{1B}[33m\(text)\u{1B}[0m" : text }
    public func green(_ text: String) -> String { color ? "\u{1B}[32m\(text)\u{1B}[0m" : text }

    /// Rows padded into columns; the last column is not padded.
    public mutating func table(_ rows: [[String]], indent: String = "", gap: Int = 3) {
        guard let width = rows.map(\.count).max(), width > 0 else { return }
        var widths = Array(repeating: 0, count: width)
        for row in rows {
            for (index, cell) in row.enumerated() where index < width - 1 {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for row in rows {
            var rendered = indent
            for (index, cell) in row.enumerated() {
                rendered +=
                    index == row.count - 1
                    ? cell : cell.padding(toLength: widths[index] + gap, withPad: " ", startingAt: 0)
            }
            while rendered.last == " " { rendered.removeLast() }
            line(rendered)
        }
    }

    /// `Label: value` lines, skipping empty values.
    public mutating func fields(_ pairs: [(String, String?)]) {
        for (label, value) in pairs {
            guard let value, !value.isEmpty else { continue }
            line("\(label): \(value)")
        }
    }
}
