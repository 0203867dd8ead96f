import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A vagrant command that outlives the process that started it (a build's monitor): it
/// runs in a session of its own, its output appended to `nepho/builds/BUILD.log` in the
/// formation's folder, and a small shell wrapper writes its exit status to
/// `BUILD.status` when it ends. Whoever holds the build (the first monitor, or one
/// respawned after a crash) reads the log with `VagrantLogFollower`.
public struct VagrantDetachedRun: Codable, Sendable, Equatable {
    /// The wrapper's pid, also its process group (it leads its own session).
    public var pid: Int32
    public var logFile: String
    public var statusFile: String

    /// The exit status once the command has ended, else nil.
    public func exitStatus() -> Int32? {
        guard let data = FileManager.default.contents(atPath: statusFile) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// True while the wrapper's process exists.
    public var isAlive: Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Interrupts vagrant as Ctrl-C would (SIGINT to the whole process group): it stops
    /// its action cleanly and exits, and the status is still written.
    public func interrupt() { _ = kill(-pid, SIGINT) }
}

extension VagrantRunner {
    /// Starts `command` detached; `build` names its log and status files (a build id).
    /// Secrets are in vagrant's environment only, as for `run`. With `after`, the
    /// wrapper first waits until that run has ended (its status written, or its wrapper
    /// gone): vagrant runs one action per machine at a time, so a destroy that cancels
    /// an interrupted `up` starts once the `up` has stopped.
    public func startDetached(
        _ command: VagrantCommand, build: String, after previous: VagrantDetachedRun? = nil
    ) throws -> VagrantDetachedRun {
        let vagrant = try vagrantPath()
        let folder = environment.folder.appendingPathComponent("nepho/builds", isDirectory: true)
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let log = folder.appendingPathComponent("\(build).log").path
        let status = folder.appendingPathComponent("\(build).status").path
        for stale in [log, status, status + ".tmp"] { try? FileManager.default.removeItem(atPath: stale) }
        var variables = commandEnvironment
        variables["NEPHO_VAGRANT_STATUS"] = status
        var wait = ""
        if let previous {
            variables["NEPHO_VAGRANT_AFTER_STATUS"] = previous.statusFile
            wait =
                "while [ ! -e \"$NEPHO_VAGRANT_AFTER_STATUS\" ] && kill -0 \(previous.pid) 2>/dev/null; do sleep 0.2; done; "
        }
        let wrapper =
            wait
            + "\"$@\"; status=$?; printf '%s\\n' \"$status\" > \"$NEPHO_VAGRANT_STATUS.tmp\" && mv \"$NEPHO_VAGRANT_STATUS.tmp\" \"$NEPHO_VAGRANT_STATUS\""
        let pid = try DetachedProcess.spawn(
            path: "/bin/sh", arguments: ["-c", wrapper, "nepho-vagrant", vagrant] + command.arguments,
            environment: variables, logFile: log)
        return VagrantDetachedRun(pid: pid, logFile: log, statusFile: status)
    }
}

/// Reads a detached run's log as it grows, turning its lines into events.
///
/// Lines are numbered from 1 in the log; a follower that resumes after line N (the last
/// one whose events were stored) re-reads the lines before it only to rebuild the
/// parser's state and reports events of lines N+1 onwards, so no event is lost or
/// repeated across a crash. It ends when the status file exists and the log has been
/// read to its end, or when the wrapper is gone without one (the machine restarted).
public struct VagrantLogFollower: Sendable {
    public var run: VagrantDetachedRun
    /// Seconds between looks at a quiet log.
    public var pollInterval: Double
    /// The formation's folder, for the advice in problems.
    public var folder: String?

    public init(run: VagrantDetachedRun, pollInterval: Double = 0.25, folder: String? = nil) {
        self.run = run
        self.pollInterval = pollInterval
        self.folder = folder
    }

    /// Follows the log to the end of the run; `onEvent` gets each event with its line number.
    public func follow(
        resumingAfter stored: Int = 0, onEvent: (_ line: Int, _ event: VagrantEvent) -> Void
    ) async throws -> VagrantRunResult {
        var parser = VagrantOutputParser()
        var lineNumber = 0
        var pending: [UInt8] = []
        var offset: UInt64 = 0
        var unparsed: [String] = []
        func deliver(_ text: String) {
            lineNumber += 1
            let events = parser.feed(text)
            if VagrantMachineReadableLine.parse(text) == nil && !text.isEmpty { unparsed.append(text) }
            if lineNumber > stored { for event in events { onEvent(lineNumber, event) } }
        }
        while true {
            let finished = run.exitStatus()
            // The wrapper writes the status before it exits: look again once it is gone.
            let gone = finished == nil && !run.isAlive && run.exitStatus() == nil
            if let handle = FileHandle(forReadingAtPath: run.logFile) {
                try handle.seek(toOffset: offset)
                let data = handle.readDataToEndOfFile()
                try? handle.close()
                offset += UInt64(data.count)
                for byte in data {
                    if byte == UInt8(ascii: "\n") {
                        deliver(String(decoding: pending, as: UTF8.self))
                        pending.removeAll(keepingCapacity: true)
                    } else {
                        pending.append(byte)
                    }
                }
            }
            if finished != nil || gone {
                if !pending.isEmpty { deliver(String(decoding: pending, as: UTF8.self)) }
                let status = finished ?? 255
                let summary = parser.summary(exitStatus: status)
                var problem: VagrantProblem?
                if gone {
                    problem = VagrantProblem(
                        kind: .failed, message: "vagrant stopped without reporting how it ended",
                        remedy:
                            "The machine may have restarted during the build: `vagrant status` in the formation's folder shows the machine's state."
                    )
                } else if let failure = summary.failure {
                    problem = VagrantProblem.explain(failure, folder: folder)
                } else if summary.provisionerSucceeded == false || status != 0 {
                    problem = VagrantProblem(
                        kind: summary.provisionerSucceeded == false ? .provisionerFailed : .failed,
                        message: "vagrant exited with status \(status)",
                        remedy: "Read its output in \(run.logFile).",
                        vagrantMessage: unparsed.suffix(20).joined(separator: "\n"))
                }
                return VagrantRunResult(
                    summary: summary, problem: problem?.withProvisionerReport(summary),
                    standardError: unparsed)
            }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1_000_000_000))
        }
    }
}
