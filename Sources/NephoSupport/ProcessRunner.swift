import Foundation

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    public var arguments: [String]
    public var status: Int32
    public var standardOutput: Data
    public var standardError: Data
    /// True when the runner killed the child because its time limit passed.
    public var timedOut: Bool

    public var succeeded: Bool { status == 0 && !timedOut }
    public var output: String { String(decoding: standardOutput, as: UTF8.self) }
    public var errorOutput: String { String(decoding: standardError, as: UTF8.self) }
}

/// Failure to start a child, or a child that failed; carries the command line and output.
public struct ProcessError: Error, CustomStringConvertible, Sendable {
    public var result: ProcessResult?
    public var arguments: [String]
    public var reason: String

    public var description: String {
        var text = "\(arguments.joined(separator: " ")): \(reason)"
        if let result {
            let tail = result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            if !tail.isEmpty { text += "\n" + tail }
        }
        return text
    }
}

/// Runs child processes to completion and collects their output.
public enum ProcessRunner {
    /// Runs `executable` (a path, or a name looked up in `PATH`) with `arguments`.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; `nil` inherits ours.
    ///   - input: bytes written to the child's standard input, which is then closed.
    ///   - timeout: seconds after which the child and the processes it started get SIGTERM,
    ///     then (2 s later) SIGKILL.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil, input: Data? = nil, timeout: Double? = nil
    ) async throws -> ProcessResult {
        let command = [executable] + arguments
        guard let path = resolve(executable, environment: environment) else {
            throw ProcessError(result: nil, arguments: command, reason: "command not found")
        }
        let child = try ChildProcess.spawn(
            path: path, arguments: arguments, environment: environment,
            currentDirectory: currentDirectory?.path, captureInput: input != nil)
        let collector = OutputCollector()
        collector.drain(child.standardOutput, toError: false)
        collector.drain(child.standardError, toError: true)
        if let input, let writer = child.standardInput {
            Thread.detachNewThread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        if let timeout {
            let timer = DispatchQueue(label: "nepho.process-timeout")
            timer.asyncAfter(deadline: .now() + timeout) {
                guard child.isRunning else { return }
                collector.markTimedOut()
                // The child's own children too: one holding its pipes would keep the run
                // waiting for the end of its output after the child is gone.
                let members = child.signalWithDescendants(SIGTERM)
                timer.asyncAfter(deadline: .now() + 2) {
                    child.signalWithDescendants(SIGKILL, also: members)
                }
            }
        }
        let status = await child.exitStatus()
        await collector.waitForEndOfOutput()
        let (stdout, stderr, timedOut) = collector.snapshot()
        return ProcessResult(
            arguments: command, status: status, standardOutput: stdout, standardError: stderr,
            timedOut: timedOut)
    }

    /// Like `run`, but throws `ProcessError` unless the child exits 0 in time.
    public static func check(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil, input: Data? = nil, timeout: Double? = nil
    ) async throws -> ProcessResult {
        let result = try await run(
            executable, arguments, environment: environment, currentDirectory: currentDirectory,
            input: input, timeout: timeout)
        if result.timedOut {
            throw ProcessError(
                result: result, arguments: result.arguments, reason: "timed out after \(timeout ?? 0) s")
        }
        if result.status != 0 {
            throw ProcessError(
                result: result, arguments: result.arguments, reason: "exited with status \(result.status)")
        }
        return result
    }

    /// The full path of `name`, searching `PATH` when it has no slash.
    public static func resolve(_ name: String, environment: [String: String]? = nil) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path =
            (environment ?? ProcessInfo.processInfo.environment)["PATH"]
            ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Reads a child's two output pipes to their end on background threads.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let group = DispatchGroup()
    private var stdout = Data()
    private var stderr = Data()
    private var timedOut = false

    func drain(_ handle: FileHandle, toError: Bool) {
        group.enter()
        // A thread of its own: a blocking read must not hold one of Dispatch's few
        // pool threads, or timers and other children starve on a two-core machine.
        Thread.detachNewThread {
            let data = handle.readDataToEndOfFile()
            self.lock.withLock {
                if toError { self.stderr = data } else { self.stdout = data }
            }
            self.group.leave()
        }
    }

    func waitForEndOfOutput() async {
        await withCheckedContinuation { continuation in
            group.notify(queue: .global()) { continuation.resume() }
        }
    }

    func markTimedOut() { lock.withLock { timedOut = true } }

    func snapshot() -> (Data, Data, Bool) { lock.withLock { (stdout, stderr, timedOut) } }
}
