import Foundation
import NephoClient
import NephoDaemon
import NephoEngine
import NephoStore

/// The whole `nephod` program for a set of providers: `monitor-host` and `monitor`
/// (which run a provider's driver, so they need the registry), then everything else
/// through `Nephod.main`. `nephod`'s `main.swift` calls it with `.standard`; a program
/// with another provider calls it with its own registry (docs/providers.md). It runs on
/// the main actor, as `main.swift`'s top-level code does, so that `monitor-host` starts
/// before the concurrency runtime has made a thread (the host forks only while it has one).
public enum NephodProgram {
    @MainActor public static func main(providers: ProviderRegistry) async -> Never {
        // What the daemon, its monitor host and monitors write is the user's alone
        // (docs/security.md); files meant to be shared are given their mode explicitly.
        umask(0o077)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "monitor-host" {
            // Forks build monitors for the daemon (docs/daemon.md, "Memory"); before any thread exists.
            exit(MonitorHost.main(providers: providers))
        }
        if arguments.first == "stdio" {
            // `nepho --host ssh://…` runs this through ssh (docs/remote.md): a pipe to the local nephod.
            exit(StdioBridge.run(arguments: Array(arguments.dropFirst())))
        }
        if arguments.first == "monitor" {
            // One build's monitor (docs/daemon.md): spawned by the daemon, context on stdin.
            signal(SIGPIPE, SIG_IGN)
            exit(await BuildMonitor.main(buildArgument: arguments.dropFirst().first, providers: providers))
        }
        await Nephod.main(
            arguments: arguments,
            makeEngine: { paths in
                // The state database is made (or migrated) before the first client, and a
                // newer one than this nephod reads stops it here, saying so.
                _ = try StateStore(path: paths.database.path)
                let engine = LocalAPI(paths: paths, providers: providers)
                engine.supervisor.superviseForever()
                // Pushed stack events (docs/aws.md): the nanny long-polls its queues.
                engine.eventQueue.start()
                return engine
            },
            monitorCount: { engine in (engine as? LocalAPI)?.supervisor.runningMonitors() ?? 0 })
    }
}
