import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A real pseudo-terminal for tests: a program runs with its standard input, output and
/// error on the terminal side (in a session of its own, with the terminal as its
/// controlling terminal, as a login shell gives it), and the test types and reads on
/// the other side. Typing Ctrl-C (`interrupt()`) makes the line discipline send SIGINT
/// to the program's foreground process group, exactly as for a person at a keyboard.
public final class PseudoTerminal: @unchecked Sendable {
    /// The controlling side (the "master"): what the program writes is read here.
    public let parent: Int32
    /// The program's side, opened here without becoming our controlling terminal.
    public let child: Int32
    /// The program side's device path (`/dev/pts/N`).
    public let childPath: String

    private let lock = NSLock()
    private var received = [UInt8]()
    private var reading = false
    private var stopped = false
    /// True while the reading thread holds bytes it read and has not added yet.
    private var carrying = false

    // glibc's pty functions, which Swift's Glibc module leaves out (they need _XOPEN_SOURCE).
    private typealias OpenPT = @convention(c) (Int32) -> Int32
    private typealias PTName = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
    private static func symbol<T>(_ name: String, as type: T.Type) -> T {
        unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)!, to: type)
    }
    /// glibc's POSIX_SPAWN_SETSID (not exported to Swift).
    private static let spawnSetSID: Int32 = 0x80

    /// Opens a terminal of `columns` × `rows` characters.
    public init(columns: UInt16 = 80, rows: UInt16 = 24) throws {
        parent = Self.symbol("posix_openpt", as: OpenPT.self)(O_RDWR | O_NOCTTY | O_CLOEXEC)
        let grantpt = Self.symbol("grantpt", as: OpenPT.self)
        let unlockpt = Self.symbol("unlockpt", as: OpenPT.self)
        let ptsname = Self.symbol("ptsname", as: PTName.self)
        guard parent >= 0, grantpt(parent) == 0, unlockpt(parent) == 0, let name = ptsname(parent) else {
            throw BenchError("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        childPath = String(cString: name)
        child = open(childPath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard child >= 0 else { throw BenchError("cannot open \(childPath)") }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(parent, UInt(TIOCSWINSZ), &size)
    }

    deinit {
        lock.withLock { stopped = true }
        close(child)
        close(parent)
    }

    // MARK: running a program on it

    /// A program running on the terminal.
    public final class Program: @unchecked Sendable {
        public let pid: pid_t
        private let exit: ProcessExit

        init(pid: pid_t) {
            self.pid = pid
            exit = ProcessExit(reaping: pid)
        }

        public var isRunning: Bool { exit.isRunning }

        /// The exit status (128 + signal number when a signal ended it).
        public func exitStatus() async -> Int32 { await exit.value() }

        /// The exit status, or nil (after SIGKILL) when it has not ended within `timeout` seconds.
        public func exitStatus(timeout: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 50_000_000) }
            if isRunning {
                kill(pid, SIGKILL)
                _ = await exitStatus()
                return nil
            }
            return await exitStatus()
        }
    }

    /// Starts `path` with the terminal as its standard input, output and error and as
    /// its controlling terminal, in a new session, with a clean signal mask.
    public func spawn(path: String, arguments: [String], environment: [String: String]) throws -> Program {
        startReading()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid (glibc does it before the file actions), opening the terminal
        // without O_NOCTTY makes it the session's controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, childPath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        let (pid, rc) = CleanSpawn.spawn(
            path: path, command: [path] + arguments, environment: environment, actions: &actions,
            extraFlags: Self.spawnSetSID)
        guard rc == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
        return Program(pid: pid)
    }

    // MARK: typing and reading

    /// Types `text` as keystrokes.
    public func type(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(parent, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Ctrl-C: the terminal sends SIGINT to its foreground process group.
    public func interrupt() { type("\u{03}") }

    /// Everything shown so far: all the program has written, including what it wrote just
    /// before it exited (the reading thread is let catch up first, for up to a second).
    /// Before `spawn`, reads what is waiting now (for a test that drives the terminal side
    /// from its own process).
    public func screen() -> String {
        if !lock.withLock({ reading }) {
            drainNow()
        } else {
            let deadline = Date().addingTimeInterval(1)
            while Date() < deadline {
                var pending: Int32 = 0
                let queued = ioctl(parent, UInt(FIONREAD), &pending) == 0 ? pending : 0
                if queued == 0 && !lock.withLock({ carrying }) { break }
                usleep(2_000)
            }
        }
        return lock.withLock { String(decoding: received, as: UTF8.self) }
    }

    /// Waits until what was shown satisfies `condition` (or `timeout` seconds pass);
    /// returns whether it did.
    @discardableResult
    public func waitFor(timeout: Double = 120, _ condition: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(screen()) { return true }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return condition(screen())
    }

    /// Whether the terminal echoes what is typed.
    public var echoIsOn: Bool {
        var settings = termios()
        tcgetattr(child, &settings)
        return settings.c_lflag & tcflag_t(ECHO) != 0
    }

    private func drainNow() {
        var flags = fcntl(parent, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(parent, F_SETFL, flags)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(parent, &buffer, buffer.count)
            if count <= 0 { break }
            lock.withLock { received += buffer[0..<count] }
        }
    }

    /// A thread keeps reading, so a program never blocks on a full terminal.
    private func startReading() {
        let start = lock.withLock { () -> Bool in
            defer { reading = true }
            return !reading
        }
        guard start else { return }
        let descriptor = parent
        Thread.detachNewThread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, 100)
                guard let self, !self.lock.withLock({ self.stopped }) else { return }
                if ready <= 0 { continue }
                self.lock.withLock { self.carrying = true }
                let count = read(descriptor, &buffer, buffer.count)
                self.lock.withLock {
                    if count > 0 { self.received += buffer[0..<count] }
                    self.carrying = false
                }
                if count < 0 && errno != EINTR && errno != EAGAIN {
                    // EIO: no program holds the terminal side any more.
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
        }
    }
}
