import ArgumentParser
import Foundation
import NephoClient
import NephoEngine
import NephoProtocol
import NephoSupport

/// The output formats of every command (`-o`).
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, yaml
}

/// Options every command takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: "Output format: text, json or yaml.")
    public var output: OutputFormat = .text

    @Flag(help: "Run in this process instead of through the nephod daemon.")
    public var foreground = false

    @Flag(
        name: .customLong("no-autostart"),
        help: "Do not start nephod when none is running (also NEPHO_NO_AUTOSTART=1).")
    public var noAutostart = false

    public init() {}

    /// Where nepho's files are, from the environment.
    public var paths: NephoPaths { NephoPaths() }

    /// The API this command talks to: nephod over its socket (started when needed),
    /// or with `--foreground` the same engine in this process.
    public func api() async throws -> any NephoAPI {
        if foreground { return LocalAPI(paths: paths) }
        let client = DaemonClient(autoStart: !noAutostart)
        client.onNotice = Self.showNotice
        return client
    }

    /// A notice of a request that is taking long (AWS throttling, …): one line on standard
    /// error when it is a terminal (scripts read the outcome, not the wait).
    @Sendable static func showNotice(_ line: String) {
        guard isatty(2) == 1 else { return }
        FileHandle.standardError.write(Data("nepho: \(TerminalText.safe(line))\n".utf8))
    }

    /// The renderer for this command's output.
    public var renderer: Renderer { Renderer(format: output) }
}
