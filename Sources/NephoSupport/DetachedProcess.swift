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
        let log: Int32
        do {
            log = try PrivateHome.openPrivate(logFile, flags: O_WRONLY | O_APPEND)
        } catch {
            throw ProcessError(result: nil, arguments: command, reason: "\(error)")
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

        let (pid, rc) = CleanSpawn.spawn(
            path: path, command: command, environment: environment, actions: &actions, extraFlags: spawnSetSID
        )
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
