import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A child started with `posix_spawn`, with a clean signal mask and default handlers.
///
/// Foundation's `Process` lets a child inherit the signal mask of whichever thread
/// spawned it; Swift's concurrency threads block most signals, so such a child would
/// ignore SIGTERM and SIGINT. This type resets both, and waits for the exit on a
/// thread of its own (no polling), so a spawn costs what `posix_spawn` costs.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// Our ends of the child's pipes; nil when not captured.
    public let standardInput: FileHandle?
    public let standardOutput: FileHandle
    public let standardError: FileHandle

    private let exit: ProcessExit

    private init(pid: pid_t, input: FileHandle?, output: FileHandle, error: FileHandle) {
        self.pid = pid
        exit = ProcessExit(reaping: pid)
        standardInput = input
        standardOutput = output
        standardError = error
    }

    /// Starts `path` with `arguments`. `environment` nil inherits ours.
    public static func spawn(
        path: String, arguments: [String], environment: [String: String]?, currentDirectory: String?,
        captureInput: Bool
    ) throws -> ChildProcess {
        let command = [path] + arguments
        func pipePair() throws -> (Int32, Int32) {
            var fds: [Int32] = [-1, -1]
            guard GNUExtensions.pipe2(&fds, O_CLOEXEC) == 0 else {
                throw ProcessError(
                    result: nil, arguments: command, reason: "pipe: \(String(cString: strerror(errno)))")
            }
            return (fds[0], fds[1])
        }
        let out = try pipePair()
        let err = try pipePair()
        let inp: (Int32, Int32) =
            captureInput ? try pipePair() : (open("/dev/null", O_RDONLY | O_CLOEXEC), -1)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inp.0, 0)
        posix_spawn_file_actions_adddup2(&actions, out.1, 1)
        posix_spawn_file_actions_adddup2(&actions, err.1, 2)
        if let currentDirectory {
            GNUExtensions.addChdir(&actions, currentDirectory)
        }

        let (pid, rc) = CleanSpawn.spawn(
            path: path, command: command, environment: environment ?? ProcessInfo.processInfo.environment,
            actions: &actions)
        close(out.1)
        close(err.1)
        close(inp.0)
        guard rc == 0 else {
            close(out.0)
            close(err.0)
            if inp.1 >= 0 { close(inp.1) }
            throw ProcessError(result: nil, arguments: command, reason: String(cString: strerror(rc)))
        }
        let child = ChildProcess(
            pid: pid,
            input: inp.1 >= 0 ? FileHandle(fileDescriptor: inp.1, closeOnDealloc: true) : nil,
            output: FileHandle(fileDescriptor: out.0, closeOnDealloc: true),
            error: FileHandle(fileDescriptor: err.0, closeOnDealloc: true))
        return child
    }

    /// True until the child has exited and been reaped.
    public var isRunning: Bool { exit.isRunning }

    /// Sends `signal` to the child while it runs.
    public func signal(_ signal: Int32) {
        exit.whileRunning { _ = kill(pid, signal) }
    }

    /// Sends `signal` to the child and to every process it started (`ProcessTree`), and
    /// to `earlier` members found by a previous call (they outlive a parent that exited);
    /// returns the members signalled, for a harder signal later.
    @discardableResult
    public func signalWithDescendants(_ signal: Int32, also earlier: [ProcessTree.Member] = [])
        -> [ProcessTree.Member]
    {
        var members = isRunning ? ProcessTree.descendants(of: pid) : []
        for member in earlier where !members.contains(member) { members.append(member) }
        self.signal(signal)
        ProcessTree.signal(members, signal)
        return members
    }

    /// The exit status (128 + signal number for a child killed by a signal).
    public func exitStatus() async -> Int32 { await exit.value() }
}

/// `posix_spawn` with an empty signal mask and every signal at its default action, so a
/// child never inherits what the spawning thread blocked or ignored.
public enum CleanSpawn {
    public static func spawn(
        path: String, command: [String], environment: [String: String],
        actions: inout posix_spawn_file_actions_t, extraFlags: Int32 = 0
    ) -> (pid: pid_t, status: Int32) {
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
            &attributes, Int16(Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | extraFlags))
        let env = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(command) { argv in
            withCStrings(env) { envp in posix_spawn(&pid, path, &actions, &attributes, argv, envp) }
        }
        return (pid, rc)
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}

/// glibc functions that Swift's Glibc module hides behind `_GNU_SOURCE`, looked up once.
private enum GNUExtensions {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let pipe2: Pipe2 = unsafeBitCast(
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2")!, to: Pipe2.self)
    static let addChdirSymbol: AddChdir = unsafeBitCast(
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")!,
        to: AddChdir.self)

    static func addChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) {
        _ = addChdirSymbol(actions, path)
    }
}

/// `pipe2(fds, O_CLOEXEC)`: both ends close-on-exec from the start, so no program another
/// thread spawns in between inherits them (as `pipe` then `fcntl` would allow).
public func closeOnExecPipe(_ fds: UnsafeMutablePointer<Int32>) -> Int32 {
    GNUExtensions.pipe2(fds, O_CLOEXEC)
}
