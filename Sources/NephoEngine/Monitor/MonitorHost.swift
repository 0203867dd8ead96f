import Foundation
import NephoHTTP
import NephoStore
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `nephod monitor-host`: the process the daemon asks for build monitors. It starts
/// once, loads what every monitor needs (nephod's libraries, libcurl and its TLS
/// libraries, Swift's metadata for the AWS and SQLite code), and then forks one
/// monitor per request. A forked monitor shares those pages with the host and its
/// siblings until it writes them, so a monitor costs a fraction of a freshly started
/// nephod (docs/daemon.md, "Memory"; bench/formations measures it).
///
/// Requests come on standard input, one JSON object per line: `{"build": ID,
/// "log": PATH, "context": {…}}`, the context holding the build's credentials (a pipe,
/// never argv or a file). Each gets one line on descriptor 3: the monitor's pid, or
/// `error: …`. A forked monitor leaves the host's session (`setsid`), writes to `log`,
/// and runs exactly what `nephod monitor ID` runs; the host ignores SIGCHLD so the
/// kernel reaps monitors. End of input (the daemon stopped or died), or its
/// `NEPHO_HOME` removed, ends the host; monitors go on.
///
/// Forking is safe only while the host has one thread: it checks before every fork
/// and otherwise answers an error, and the daemon then starts monitors the plain way.
public enum MonitorHost {
    /// One request line.
    public struct Request: Codable, Sendable {
        public var build: Int64
        public var log: String
        public var context: [String: String]

        public init(build: Int64, log: String, context: [String: String]) {
            self.build = build
            self.log = log
            self.context = context
        }
    }

    /// The host program; returns its exit status.
    public static func main(providers: ProviderRegistry = .standard) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGCHLD, SIG_IGN)  // monitors are reaped by the kernel
        // Whatever the daemon had open without close-on-exec (libcurl's pooled
        // connections…) is not the host's business, nor its monitors'.
        closeDescriptors(above: 3)
        warmUp()
        let home = NephoPaths(environment: ProcessInfo.processInfo.environment).home.path
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var input = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let ready = poll(&input, 1, 5000)
            if ready == 0 {
                if !FileManager.default.fileExists(atPath: home) { return 0 }
                continue
            }
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return 0 }
            pending.append(contentsOf: chunk[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                answer(serve(line, providers: providers))
            }
            // Wipe what held credentials (the context) once it is served.
            for index in chunk.indices { chunk[index] = 0 }
        }
    }

    /// Forks a monitor for one request line; returns the answer line.
    static func serve(_ line: [UInt8], providers: ProviderRegistry) -> String {
        guard let request = try? JSONDecoder().decode(Request.self, from: Data(line)) else {
            return "error: a request is one JSON object with build, log and context"
        }
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
        guard threads == 1 else {
            return "error: the host runs \(threads) threads and cannot fork safely"
        }
        let log: Int32
        do {
            log = try PrivateHome.openPrivate(request.log, flags: O_WRONLY | O_APPEND)
        } catch {
            return "error: \(error)"
        }
        let pid = fork()
        if pid == 0 { monitor(request, log: log, providers: providers) }
        close(log)
        guard pid > 0 else { return "error: fork: \(SystemError.errnoText())" }
        return "\(pid)"
    }

    private static func answer(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// The forked child: a session of its own, the log as its output, the build watched.
    private static func monitor(_ request: Request, log: Int32, providers: ProviderRegistry) -> Never {
        _ = setsid()
        let null = open("/dev/null", O_RDONLY)
        dup2(null, 0)
        dup2(log, 1)
        dup2(log, 2)
        closeDescriptors(above: 2)  // the log's first descriptor, the host's pipes
        signal(SIGCHLD, SIG_DFL)
        retitle("monitor \(request.build)")
        let finished = DispatchSemaphore(value: 0)
        let status = ExitStatus()
        Task.detached {
            status.value = await BuildMonitor.main(
                build: request.build, context: request.context, providers: providers)
            finished.signal()
        }
        finished.wait()
        exit(status.value)
    }

    /// Closes every open descriptor numbered above `highest`.
    static func closeDescriptors(above highest: Int32) {
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > highest { close(fd) }
    }

    private final class ExitStatus: @unchecked Sendable { var value: Int32 = 1 }

    /// Shows `nephod TITLE` in `ps` when it fits in the host's own argument space (the
    /// host starts with a long enough description as its last argument).
    static func retitle(_ title: String) {
        let argv = CommandLine.unsafeArgv
        guard CommandLine.argc >= 1, let first = argv[0] else { return }
        var end = first
        for index in 0..<Int(CommandLine.argc) {
            guard let argument = argv[index] else { break }
            end = argument + strlen(argument) + 1
        }
        let space = first.distance(to: end)
        let program = String(cString: first)
        let words = [program] + title.split(separator: " ").map(String.init)
        let bytes: [UInt8] = words.flatMap { Array($0.utf8) + [UInt8(0)] }
        guard bytes.count <= space else { return }
        let base = UnsafeMutableRawPointer(first)
        for (offset, byte) in bytes.enumerated() {
            base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
        }
        memset(base + bytes.count, 0, space - bytes.count)
    }

    /// Loads and runs once, before any fork, the code every monitor runs, so that its
    /// relocated and initialised pages are shared instead of written in each monitor.
    static func warmUp() {
        CurlHTTPClient.preload()
        _ = Timestamp.string(Date())
        _ = Timestamp.date("2026-11-29T04:00:35.673Z")
        _ = try? JSONDecoder().decode([String: String].self, from: Data(#"{"a":"b"}"#.utf8))
        _ = try? JSONEncoder().encode(["a": "b"])
    }
}
