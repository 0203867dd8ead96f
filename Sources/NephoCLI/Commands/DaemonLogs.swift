import ArgumentParser
import Foundation
import NephoClient
import NephoProtocol
import NephoSupport

extension Nepho {
    struct DaemonLogs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "daemon:logs",
            abstract: "Print the end of nephod's log, or say where it goes.",
            discussion: """
                An auto-started nephod logs to $NEPHO_HOME/log/nephod.log; one run by systemd logs \
                to the journal (journalctl --user -u nephod).
                """)

        @OptionGroup var global: GlobalOptions
        @Option(name: [.customShort("n"), .customLong("lines")], help: "How many lines to print.") var lines =
            50

        struct Logs: Encodable {
            var path: String
            var journal: Bool
            var lines: [String]
        }

        func run() async throws {
            let renderer = global.renderer
            let remote: RemoteHost?
            let client: DaemonClient
            do {
                remote = try global.remoteHost()
                client = try global.client(autoStart: false, remote: remote)
            } catch {
                throw renderer.report(error)
            }
            let status = try? client.request(DaemonRPC.status, NoParams())
            let journal = status?.startedBy == DaemonStatusOrigin.systemd || status?.log == "journal"
            var file = client.launcher.logFile.path
            var tail: [String] = []
            if let remote {
                // The log is on the host: its end, read through ssh.
                file = status.map { $0.log == "journal" || $0.log == "stderr" ? "" : $0.log } ?? ""
                if file.isEmpty { file = "~/.nepho/log/nephod.log" }
                if !journal {
                    let program = RemoteHost.sshProgram(environment: ProcessInfo.processInfo.environment)
                    let path =
                        file.hasPrefix("~/")
                        ? "\"$HOME\"/" + RemoteHost.shellQuoted(String(file.dropFirst(2)))
                        : RemoteHost.shellQuoted(file)
                    let read = try await ProcessRunner.run(
                        program[0],
                        Array(program.dropFirst())
                            + remote.sshArguments(
                                command: "tail -n \(max(0, lines)) -- \(path) 2>/dev/null; true"),
                        timeout: 120)
                    guard read.succeeded else {
                        throw renderer.report(
                            NephoError(
                                .daemonUnavailable,
                                "cannot read \(file) on \(remote.host) (ssh: \(read.errorOutput.split(separator: "\n").last ?? "exit status \(read.status)"))"
                            ))
                    }
                    tail = read.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
                }
            } else if let data = FileManager.default.contents(atPath: file) {
                tail = String(decoding: data, as: UTF8.self).split(
                    separator: "\n", omittingEmptySubsequences: false
                )
                .map(String.init).filter { !$0.isEmpty }.suffix(max(0, lines)).map { $0 }
            }
            try renderer.emit(Logs(path: file, journal: journal, lines: tail)) { out in
                if journal {
                    out.line(out.dim("# the running nephod logs to the journal: journalctl --user -u nephod"))
                }
                if tail.isEmpty {
                    out.line(out.dim("# no log at \(file) yet"))
                } else {
                    out.line(out.dim("# \(file)"))
                    for line in tail { out.line(line) }
                }
            }
        }
    }

    /// `DaemonStatus.startedBy` values.
    enum DaemonStatusOrigin {
        static let systemd = "systemd"
    }
}
