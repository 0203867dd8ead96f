import ArgumentParser
import Foundation
import NephoAWS
import NephoClient
import NephoCore
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

    @Option(
        help: ArgumentHelp(
            "Run against the nephod on this host through ssh: ssh://[USER@]HOST[:PORT], a name from `host:list`, "
                + "or `local` (also NEPHO_HOST; default: config.yaml's default host, else this machine).",
            valueName: "host"))
    public var host: String?

    @Flag(
        name: .customLong("forward-credentials"),
        help:
            "With a remote host: send this machine's AWS credentials for the command (by default the host's own are used)."
    )
    public var forwardCredentials = false

    public init() {}

    /// Where nepho's files are, from the environment.
    public var paths: NephoPaths { NephoPaths() }

    /// The remote host this command runs against (`--host`, `NEPHO_HOST`, the default
    /// host of config.yaml); nil: this machine.
    public func remoteHost() throws -> RemoteHost? {
        do {
            return try HostSettings.resolve(
                option: host, environment: ProcessInfo.processInfo.environment, config: paths.config)
        } catch let error as YAMLError {
            throw NephoError(.invalidInput, "\(error)")
        }
    }

    /// The API this command talks to: nephod over its socket (started when needed),
    /// or with `--foreground` the same engine in this process, or with a host the nephod there.
    public func api() async throws -> any NephoAPI {
        let remote = try remoteHost()
        if foreground {
            if remote != nil {
                throw NephoError(
                    .invalidInput,
                    "--foreground runs in this process, --host on another machine: give one of them")
            }
            // The engine's own long poll of pushed stack events, while this command runs:
            // builds it starts or watches hear their events as the daemon's would.
            let engine = LocalAPI(paths: paths)
            engine.eventQueue.start(logging: false)
            return engine
        }
        let client = try client(autoStart: !noAutostart, remote: remote)
        client.onNotice = Self.showNotice
        return client
    }

    /// A notice of a request that is taking long (AWS throttling, …): one line on standard
    /// error when it is a terminal (scripts read the outcome, not the wait).
    @Sendable static func showNotice(_ line: String) {
        guard isatty(2) == 1 else { return }
        FileHandle.standardError.write(Data("nepho: \(TerminalText.safe(line))\n".utf8))
    }

    /// A client of the local nephod or, with a host, of the one there.
    public func client(autoStart: Bool, remote: RemoteHost?) throws -> DaemonClient {
        guard let remote else { return DaemonClient(autoStart: autoStart) }
        if !forwardCredentials {
            return DaemonClient(autoStart: autoStart, host: remote)
        }
        // The client's identity as its own tools resolve it (environment, profile, files),
        // sent for this connection only; the host keeps it in memory (docs/remote.md).
        let configuration = try AWSConfiguration.resolve()
        let credentials = try configuration.requireCredentials()
        var forwarded = [
            "AWS_ACCESS_KEY_ID": credentials.accessKeyId,
            "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey.reveal(),
        ]
        if let token = credentials.sessionToken { forwarded["AWS_SESSION_TOKEN"] = token.reveal() }
        if let region = configuration.region {
            forwarded["AWS_REGION"] = region
            forwarded["AWS_DEFAULT_REGION"] = region
        }
        return DaemonClient(autoStart: autoStart, host: remote, forwarded: forwarded)
    }

    /// The renderer for this command's output.
    public var renderer: Renderer { Renderer(format: output) }
}
