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
        try await run(arguments, in: directory, progress: nil)
    }

    public func run(_ arguments: [String], in directory: URL?, progress: (@Sendable (String) -> Void)?)
        async throws -> ProcessResult
    {
        try GitSafety.checkArguments(arguments)
        let shown = ["git"] + arguments.map(GitSource.redacted)
        // A token in a URL never reaches git's arguments, which every local user can read
        // (`ps`): git gets the URL without it, and the token as a URL rewrite in its
        // environment (GIT_CONFIG_*: readable by this user only).
        var argv = arguments
        var env = environment
        var rewrites: [(plain: String, full: String)] = []
        for (index, argument) in arguments.enumerated() {
            guard let split = GitSource.credentials(in: argument) else { continue }
            argv[index] = split.plain
            env["GIT_CONFIG_KEY_\(rewrites.count)"] = "url.\(argument).insteadOf"
            env["GIT_CONFIG_VALUE_\(rewrites.count)"] = split.plain
            rewrites.append((split.plain, argument))
        }
        if !rewrites.isEmpty { env["GIT_CONFIG_COUNT"] = String(rewrites.count) }
        let result: ProcessResult
        do {
            if let progress {
                result = try await Self.streaming(
                    configuration + argv, environment: env, in: directory, timeLimit: timeLimit,
                    progress: { progress(SafeGit.redactURLs($0)) })
            } else {
                result = try await ProcessRunner.run(
                    "git", configuration + argv, environment: env, currentDirectory: directory,
                    timeout: timeLimit)
            }
        } catch let error as ProcessError {
            throw GitError(reason: .notStarted(error.reason), command: shown, output: "")
        }
        if result.succeeded {
            if arguments.first == "clone", let destination = arguments.last, !rewrites.isEmpty {
                // Later fetches (cloudlet:update) need the token too: the clone's own
                // configuration (in nepho's private home) keeps the URL it was given.
                Self.restoreOrigin(in: URL(fileURLWithPath: destination, relativeTo: directory), rewrites)
            }
            return result
        }
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

    /// Runs git with its standard error passed to `progress` line by line (and `\r` by
    /// `\r`) as it comes, and its finished lines collected for the result; stopped after
    /// `timeLimit` seconds (SIGTERM, then SIGKILL 2 s later, with what git started).
    static func streaming(
        _ arguments: [String], environment: [String: String], in directory: URL?, timeLimit: Double,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> ProcessResult {
        let process = try LineStreamingProcess.start(
            "git", arguments, environment: environment, currentDirectory: directory, carriageReturns: true)
        let limit = Task {
            try await Task.sleep(nanoseconds: UInt64(timeLimit * 1_000_000_000))
            // With its ssh or HTTP helper, which holds git's standard error open.
            let members = process.child.signalWithDescendants(SIGTERM)
            try? await Task.sleep(nanoseconds: 2_000_000_000)
            process.child.signalWithDescendants(SIGKILL, also: members)
            return true
        }
        var output = Data()
        var errors = Data()
        for await line in process.lines {
            switch line.stream {
            case .standardOutput: output.append(Data((line.text + "\n").utf8))
            case .standardError:
                if !line.text.isEmpty { progress(line.text) }
                // A line git redraws is progress only; what stays is kept for errors.
                if !line.text.hasSuffix("\r") { errors.append(Data((line.text + "\n").utf8)) }
            }
        }
        let status = await process.exitStatus()
        limit.cancel()
        let timedOut = (try? await limit.value) == true
        return ProcessResult(
            arguments: ["git"] + arguments, status: status, standardOutput: output, standardError: errors,
            timedOut: timedOut)
    }

    /// Puts the URL with its token back as `remote.origin.url` in a clone's `.git/config`,
    /// written as git writes it, without passing the token to any program.
    static func restoreOrigin(in clone: URL, _ rewrites: [(plain: String, full: String)]) {
        let config = clone.appendingPathComponent(".git/config")
        guard var text = try? String(contentsOf: config, encoding: .utf8) else { return }
        for rewrite in rewrites {
            text = text.replacingOccurrences(
                of: "\turl = \(rewrite.plain)\n", with: "\turl = \(rewrite.full)\n")
        }
        try? AtomicFile.write(Data(text.utf8), to: config, mode: 0o600)
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
