import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A vagrant command nepho runs on a formation, always with `--machine-readable`.
public enum VagrantCommand: String, Sendable, CaseIterable {
    case up, provision, halt, destroy, reload

    /// The arguments after `vagrant`.
    public var arguments: [String] {
        switch self {
        case .destroy: return ["destroy", "--force", "--machine-readable"]
        default: return [rawValue, "--machine-readable"]
        }
    }
}

/// How one vagrant command ended: its summary, and the problem to show when it failed.
public struct VagrantRunResult: Sendable {
    public var summary: VagrantRunSummary
    /// nil when the command succeeded.
    public var problem: VagrantProblem?
    /// What vagrant wrote to standard error (not machine-readable).
    public var standardError: [String]
}

/// Runs vagrant in a formation's folder through `LineStreamingProcess`, turning its
/// machine-readable output into `VagrantEvent`s as the lines arrive.
///
/// Every run gets the formation's parameters (and, in memory, its secrets) as
/// environment variables (`VagrantEnvironment.commandEnvironment`). A missing vagrant
/// throws `VagrantProblem.notInstalled`; a failure vagrant reports is explained by
/// `VagrantProblem.explain` (no usable provider, a missing box, an invalid
/// Vagrantfile, a failed provisioner).
public struct VagrantRunner: Sendable {
    public var environment: VagrantEnvironment
    /// The environment the commands start from (the caller's, usually).
    public var baseEnvironment: [String: String]
    public var secrets: [String: Secret]
    /// `vagrant`, or a path to it.
    public var executable: String

    public init(
        environment: VagrantEnvironment,
        baseEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        secrets: [String: Secret] = [:], executable: String = "vagrant"
    ) {
        self.environment = environment
        self.baseEnvironment = baseEnvironment
        self.secrets = secrets
        self.executable = executable
    }

    var commandEnvironment: [String: String] {
        environment.commandEnvironment(base: baseEnvironment, secrets: secrets)
    }

    /// The path of vagrant; throws `VagrantProblem.notInstalled` when there is none.
    public func vagrantPath() throws -> String {
        guard let path = ProcessRunner.resolve(executable, environment: baseEnvironment) else {
            throw VagrantProblem.notInstalled
        }
        return path
    }

    /// Runs `command`, calling `onEvent` with each event as soon as its line arrives.
    /// Cancelling the task interrupts vagrant (SIGINT, as Ctrl-C would), which then
    /// stops cleanly; the result still comes back.
    public func run(
        _ command: VagrantCommand, onEvent: (VagrantEvent) -> Void = { _ in }
    ) async throws -> VagrantRunResult {
        try await run(arguments: command.arguments, onEvent: onEvent)
    }

    /// Runs `vagrant ARGUMENTS` (which should include `--machine-readable`).
    public func run(
        arguments: [String], onEvent: (VagrantEvent) -> Void = { _ in }, onOutput: (String) -> Void = { _ in }
    ) async throws -> VagrantRunResult {
        let path = try vagrantPath()
        let process = try LineStreamingProcess.start(
            path, arguments, environment: commandEnvironment, currentDirectory: environment.folder)
        var parser = VagrantOutputParser()
        var standardError: [String] = []
        await withTaskCancellationHandler {
            for await line in process.lines {
                switch line.stream {
                case .standardOutput:
                    onOutput(line.text)
                    for event in parser.feed(line.text) { onEvent(event) }
                case .standardError:
                    standardError.append(line.text)
                }
            }
        } onCancel: {
            process.signal(SIGINT)
        }
        let status = await process.exitStatus()
        let summary = parser.summary(exitStatus: status)
        return VagrantRunResult(
            summary: summary,
            problem: problem(summary: summary, standardError: standardError)?.withProvisionerReport(summary)
                .redacting(Array(secrets.values)),
            standardError: standardError)
    }

    func problem(summary: VagrantRunSummary, standardError: [String]) -> VagrantProblem? {
        if let failure = summary.failure {
            return VagrantProblem.explain(failure, folder: environment.folder.path)
        }
        if summary.provisionerSucceeded == false {
            return VagrantProblem.explain(
                VagrantFailure(errorClass: "Vagrant::Errors::VagrantError", message: "non-zero exit status"),
                folder: environment.folder.path)
        }
        guard summary.exitStatus != 0 else { return nil }
        let tail = standardError.suffix(20).joined(separator: "\n")
        // A Vagrantfile that does not load stops vagrant before its UI exists: the
        // message goes to standard error as plain text.
        if tail.contains("error in the following Vagrantfile") || tail.contains("error loading a Vagrantfile")
        {
            return VagrantProblem.explain(
                VagrantFailure(errorClass: "Vagrant::Errors::VagrantfileSyntaxError", message: tail),
                folder: environment.folder.path)
        }
        return VagrantProblem(
            kind: .failed, message: "vagrant exited with status \(summary.exitStatus)",
            remedy:
                "Read vagrant's message below; `vagrant status` in \(environment.folder.path) shows the machine's state.",
            vagrantMessage: tail.isEmpty ? nil : tail)
    }

    /// `vagrant status --machine-readable`: each machine's state. Throws the problem when vagrant fails.
    public func status() async throws -> [VagrantMachineStatus] {
        let output = try await collect(["status", "--machine-readable"])
        return VagrantMachineStatus.parse(output)
    }

    /// `vagrant ssh-config`: how to reach each running machine.
    public func sshConfig() async throws -> [VagrantSSHConfig] {
        VagrantSSHConfig.parse(try await collect(["ssh-config", "--machine-readable"]))
    }

    /// `vagrant validate` (`-p`, `--ignore-provider`, unless `checkProvider`: without it
    /// no provider needs to be installed). Throws the problem when the Vagrantfile is invalid.
    public func validate(checkProvider: Bool = false) async throws {
        _ = try await collect(
            ["validate"] + (checkProvider ? [] : ["--ignore-provider"]) + ["--machine-readable"])
    }

    /// Runs a short command to its end and returns its standard output; throws a
    /// `VagrantProblem` when it fails.
    func collect(_ arguments: [String]) async throws -> String {
        let output = OutputLines()
        let result = try await run(arguments: arguments, onOutput: { output.lines.append($0) })
        if let problem = result.problem { throw problem }
        return output.lines.joined(separator: "\n")
    }
}

/// Collects standard-output lines within one task.
private final class OutputLines: @unchecked Sendable {
    var lines: [String] = []
}
