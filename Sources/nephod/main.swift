import Foundation
import NephoDaemon
import NephoEngine

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "monitor-host" {
    // Forks build monitors for the daemon (docs/daemon.md, "Memory"); before any thread exists.
    exit(MonitorHost.main())
}
if arguments.first == "monitor" {
    // One build's monitor (docs/daemon.md): spawned by the daemon, context on stdin.
    signal(SIGPIPE, SIG_IGN)
    exit(await BuildMonitor.main(buildArgument: arguments.dropFirst().first))
}
await Nephod.main(
    arguments: arguments,
    makeEngine: { paths in
        MonitorSupervisor.shared(paths).superviseForever()
        return LocalAPI(paths: paths)
    },
    monitorCount: { paths in MonitorSupervisor.shared(paths).runningMonitors() })
