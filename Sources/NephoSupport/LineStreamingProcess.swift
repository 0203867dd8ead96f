import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One line a child printed, without its newline.
public struct ProcessOutputLine: Sendable, Equatable {
    public enum Stream: String, Sendable, Equatable { case standardOutput, standardError }
    public var stream: Stream
    public var text: String

    public init(stream: Stream, text: String) {
        self.stream = stream
        self.text = text
    }
}

/// A `ChildProcess` whose standard output and error arrive line by line, as the child
/// prints them, for programs that report progress (`vagrant up --machine-readable`).
///
/// Each pipe is read on a thread of its own; the lines of one stream keep their order,
/// lines of the two streams interleave as they are read. `lines` ends when both pipes
/// are closed (normally when the child exits). A last line without a newline is still
/// delivered.
public final class LineStreamingProcess: Sendable {
    public let child: ChildProcess
    public let lines: AsyncStream<ProcessOutputLine>

    private init(child: ChildProcess, lines: AsyncStream<ProcessOutputLine>) {
        self.child = child
        self.lines = lines
    }

    /// Starts `executable` (a path, or a name looked up in `PATH`); standard input is /dev/null.
    /// `environment` nil inherits ours.
    ///
    /// With `carriageReturns`, a piece ended by `\r` (a progress line about to be redrawn,
    /// as git prints them) is delivered at once too, with its `\r`.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil, carriageReturns: Bool = false
    ) throws -> LineStreamingProcess {
        guard let path = ProcessRunner.resolve(executable, environment: environment) else {
            throw ProcessError(result: nil, arguments: [executable] + arguments, reason: "command not found")
        }
        let child = try ChildProcess.spawn(
            path: path, arguments: arguments, environment: environment,
            currentDirectory: currentDirectory?.path,
            captureInput: false)
        let (stream, continuation) = AsyncStream.makeStream(of: ProcessOutputLine.self)
        let open = OpenPipes(count: 2, continuation: continuation)
        for (handle, kind) in [
            (child.standardOutput, ProcessOutputLine.Stream.standardOutput),
            (child.standardError, .standardError),
        ] {
            Thread.detachNewThread {
                readLines(handle.fileDescriptor, carriageReturns: carriageReturns) {
                    continuation.yield(ProcessOutputLine(stream: kind, text: $0))
                }
                open.close()
            }
        }
        return LineStreamingProcess(child: child, lines: stream)
    }

    /// Waits for the child; 128 + signal number when a signal ended it.
    public func exitStatus() async -> Int32 { await child.exitStatus() }

    /// Sends `signal` to the child while it runs.
    public func signal(_ signal: Int32) { child.signal(signal) }

    /// Reads `fd` to its end, calling `deliver` with each line (split on `\n`, a trailing
    /// `\r` kept; invalid UTF-8 repaired); with `carriageReturns`, also after each `\r`
    /// (kept) that no `\n` follows.
    static func readLines(_ fd: Int32, carriageReturns: Bool = false, deliver: (String) -> Void) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var start = 0
            for index in 0..<count {
                let byte = buffer[index]
                if byte == UInt8(ascii: "\n") {
                    pending.append(contentsOf: buffer[start..<index])
                } else if carriageReturns && byte == UInt8(ascii: "\r")
                    && (index + 1 == count || buffer[index + 1] != UInt8(ascii: "\n"))
                {
                    pending.append(contentsOf: buffer[start...index])
                } else {
                    continue
                }
                deliver(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
                start = index + 1
            }
            pending.append(contentsOf: buffer[start..<count])
        }
        if !pending.isEmpty { deliver(String(decoding: pending, as: UTF8.self)) }
    }
}

/// Finishes the line stream when the last pipe closes.
private final class OpenPipes: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    private let continuation: AsyncStream<ProcessOutputLine>.Continuation

    init(count: Int, continuation: AsyncStream<ProcessOutputLine>.Continuation) {
        self.count = count
        self.continuation = continuation
    }

    func close() {
        let last = lock.withLock {
            count -= 1
            return count == 0
        }
        if last { continuation.finish() }
    }
}
