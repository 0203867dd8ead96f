import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a long-lived program (nephod) that outlives its starter: `posix_spawn` in a new
/// session (`setsid`, so no terminal signal reaches it), a clean signal mask and default
/// handlers (see `ChildProcess`), stdin from /dev/null, stdout and stderr appended to a
/// log file, and optionally one more descriptor passed as fd 3 (and another as stdin).
public enum DetachedProcess {
    /// glibc's POSIX_SPAWN_SETSID (not exported to Swift).
    private static let spawnSetSID: Int32 = 0x80

    /// Spawns `path` and returns its pid. A thread reaps it when it exits, so a long-lived
    /// starter (a test) never keeps a zombie.
    public static func spawn(
        path: String, arguments: [String], environment: [String: String], logFile: String,
        descriptor3: Int32? = nil, standardInput: Int32? = nil
    ) throws -> pid_t {
        let command = [path] + arguments
        let log = open(logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard log >= 0 else {
            throw ProcessError(
                result: nil, arguments: command,
                reason: "cannot open \(logFile): \(String(cString: strerror(errno)))")
        }
        defer { close(log) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, standardInput ?? null, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        if let descriptor3 { posix_spawn_file_actions_adddup2(&actions, descriptor3, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(
            &attributes, Int16(Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | spawnSetSID))

        let env = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw ProcessError(result: nil, arguments: command, reason: String(cString: strerror(rc)))
        }
        let child = pid
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        }
        return pid
    }
}
