import ArgumentParser
import Foundation
import NephoClient
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

extension Nepho {
    struct DaemonStop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "daemon:stop",
            abstract: "Stop the running nephod (build monitors keep running).",
            discussion: "Does nothing when no daemon runs. Also stops a daemon of another protocol version.")

        @OptionGroup var global: GlobalOptions

        struct Stopped: Encodable {
            var running: Bool
            var pid: Int32?
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
            var pid: Int32?
            do {
                pid = try client.request(DaemonRPC.stop, NoParams()).pid
            } catch let error as NephoError
                where error.code == .daemonUnavailable
                && (remote == nil || error.message.contains(DaemonLauncher.notRunning))
            {
                try renderer.emit(Stopped(running: false, pid: nil)) { out in
                    out.line("nephod is not running")
                }
                return
            } catch let error as NephoError where error.code == .versionMismatch && remote == nil {
                // A daemon of another version cannot be asked; the kernel tells us its pid.
                let other = try client.peerPID()
                kill(other, SIGTERM)
                pid = other
            } catch {
                throw renderer.report(error)
            }
            client.close()
            if let remote {
                try renderer.emit(Stopped(running: true, pid: pid)) { out in
                    out.line("stopped nephod on \(remote.host)" + (pid.map { " (pid \($0))" } ?? ""))
                }
                return
            }
            // Wait until the socket no longer answers, so the next command starts afresh.
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline, let fd = try? UnixSocket.connect(path: client.paths.socket.path) {
                close(fd)
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            try renderer.emit(Stopped(running: true, pid: pid)) { out in
                out.line("stopped nephod" + (pid.map { " (pid \($0))" } ?? ""))
            }
        }
    }
}
