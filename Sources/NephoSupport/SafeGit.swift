import Foundation

/// The `GitClient` nepho uses: git in a clean environment that can neither prompt,
/// run hooks, nor use any transport but https, ssh and local files, under a time limit.
///
/// - Environment: only `PATH`, `HOME`, `USER`, `TMPDIR`, `SSH_AUTH_SOCK`, proxy and
///   CA-certificate variables are passed on; no inherited `GIT_DIR`, `GIT_WORK_TREE`,
///   `GIT_CONFIG_*`, … . `GIT_ALLOW_PROTOCOL=https:ssh:file`, `GIT_TERMINAL_PROMPT=0`,
///   `GIT_ASKPASS`/`SSH_ASKPASS` = `true` (an empty answer), `GIT_SSH_COMMAND` runs
///   ssh with `BatchMode=yes`, `LC_ALL=C` so messages can be recognised.
/// - Configuration on every call: `protocol.allow=never` with explicit `always` for
///   https, ssh and file; `core.hooksPath=/dev/null`; `core.fsmonitor=false`;
///   `submodule.recurse=false`.
public struct SafeGit: GitClient {
    /// Seconds after which a git command is stopped.
    public var timeLimit: Double
    /// The ssh program and its options (`GIT_SSH_COMMAND`).
    public var sshCommand: String
    /// Whether `file` URLs and local paths may be used (false for submodules of remote cloudlets).
    public var allowLocal: Bool
    private var baseEnvironment: [String: String]

    /// Variables passed on from `environment` (normally our own).
    public static let passedVariables: [String] = [
        "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "SSH_AUTH_SOCK", "http_proxy", "https_proxy",
        "HTTPS_PROXY",
        "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ]

    public init(
        timeLimit: Double = 300, sshCommand: String = "ssh -oBatchMode=yes", allowLocal: Bool = true,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.timeLimit = timeLimit
        self.sshCommand = sshCommand
        self.allowLocal = allowLocal
        baseEnvironment = environment.filter { SafeGit.passedVariables.contains($0.key) }
        if baseEnvironment["PATH"] == nil { baseEnvironment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
    }

    /// The protocols git may use.
    var allowedProtocols: [String] { allowLocal ? ["https", "ssh", "file"] : ["https", "ssh"] }

    /// The whole environment git runs with.
    public var environment: [String: String] {
        var env = baseEnvironment
        let yes = ProcessRunner.resolve("true", environment: env) ?? "/bin/true"
        env["GIT_ALLOW_PROTOCOL"] = allowedProtocols.joined(separator: ":")
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_ASKPASS"] = yes
        env["SSH_ASKPASS"] = yes
        env["SSH_ASKPASS_REQUIRE"] = "never"
        env["GIT_SSH_COMMAND"] = sshCommand
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GCM_INTERACTIVE"] = "never"
        env["LC_ALL"] = "C"
        return env
    }

    /// The `-c` settings put before every command.
    public var configuration: [String] {
        var settings = ["protocol.allow=never"]
        settings += allowedProtocols.map { "protocol.\($0).allow=always" }
        settings += [
            "core.hooksPath=/dev/null", "core.fsmonitor=false", "submodule.recurse=false",
            "credential.interactive=never", "advice.detachedHead=false", "init.defaultBranch=main",
        ]
        return settings.flatMap { ["-c", $0] }
    }

    public func run(_ arguments: [String], in directory: URL?) async throws -> ProcessResult {
        try GitSafety.checkArguments(arguments)
        let shown = ["git"] + arguments.map(GitSource.redacted)
        let result: ProcessResult
        do {
            result = try await ProcessRunner.run(
                "git", configuration + arguments, environment: environment, currentDirectory: directory,
                timeout: timeLimit)
        } catch let error as ProcessError {
            throw GitError(reason: .notStarted(error.reason), command: shown, output: "")
        }
        if result.succeeded { return result }
        let output = SafeGit.redactURLs(
            (result.errorOutput + result.output).trimmingCharacters(in: .whitespacesAndNewlines))
        if result.timedOut {
            throw GitError(reason: .timedOut(seconds: timeLimit), command: shown, output: output)
        }
        if SafeGit.looksLikeAuthentication(output) {
            throw GitError(reason: .authenticationRequired, command: shown, output: output)
        }
        throw GitError(reason: .failed(status: result.status), command: shown, output: output)
    }

    static func looksLikeAuthentication(_ output: String) -> Bool {
        let lower = output.lowercased()
        return lower.contains("terminal prompts disabled") || lower.contains("could not read username")
            || lower.contains("could not read password") || lower.contains("authentication failed")
            || lower.contains("permission denied (publickey")
            || lower.contains("host key verification failed")
    }

    /// Redacts credentials in every URL-looking word of `text`.
    static func redactURLs(_ text: String) -> String {
        guard text.contains("@") else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: " ", omittingEmptySubsequences: false).map { word in
                let clean = word.trimmingCharacters(in: CharacterSet(charactersIn: "'\"`"))
                return clean.contains("://")
                    ? word.replacingOccurrences(of: clean, with: GitSource.redacted(clean)) : String(word)
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
