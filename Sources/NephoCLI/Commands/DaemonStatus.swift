import ArgumentParser
import Foundation
import NephoClient
import NephoProtocol

extension Nepho {
    struct DaemonStatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "daemon:status",
            abstract: "Show the running nephod: pid, version, uptime, socket, database, clients, monitors.",
            discussion: "Never starts a daemon. Exits 3 when none is running.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let renderer = global.renderer
            if global.foreground {
                throw renderer.report(
                    NephoError(
                        .invalidInput, "daemon:status describes nephod; with --foreground there is no daemon")
                )
            }
            let remote: RemoteHost?
            let client: DaemonClient
            do {
                remote = try global.remoteHost()
                client = try global.client(autoStart: false, remote: remote)
            } catch {
                throw renderer.report(error)
            }
            let status: DaemonStatus
            do {
                status = try client.request(DaemonRPC.status, NoParams())
            } catch let error as NephoError
                where error.code == .daemonUnavailable
                && (remote == nil || error.message.contains(DaemonLauncher.notRunning))
            {
                let place = remote.map { "on \($0.host)" } ?? "(socket \(client.paths.socket.path))"
                FileHandle.standardError.write(Data("nephod is not running \(place)\n".utf8))
                throw ExitCode(3)
            } catch {
                throw renderer.report(error)
            }
            try renderer.emit(status) { out in
                out.fields([
                    ("pid", "\(status.pid)"),
                    ("version", "\(status.version) (protocol \(status.protocolVersion))"),
                    ("uptime", Self.duration(status.uptimeSeconds) + " (since \(status.startedAt))"),
                    ("started by", status.startedBy),
                    (
                        "idle exit",
                        status.idleTimeoutSeconds.map { "after \(Self.duration($0)) without clients" }
                            ?? "never"
                    ),
                    ("socket", status.socket),
                    ("database", status.database),
                    ("home", status.home),
                    ("clients", "\(status.clients)"),
                    ("monitors", "\(status.monitors)"),
                    ("log", status.log),
                ])
            }
        }

        static func duration(_ seconds: Double) -> String {
            let total = Int(seconds)
            if total < 60 { return "\(total)s" }
            if total < 3600 { return "\(total / 60)m \(total % 60)s" }
            return "\(total / 3600)h \(total % 3600 / 60)m"
        }
    }
}
