import Dispatch
import Foundation
import Logging
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The `nephod` program: `serve` (the default), `install-units`, `--version`, `--help`.
/// `main.swift` only calls `Nephod.main` with the engine to serve.
public enum Nephod {
    public static let usage = """
        usage: nephod [serve] [--on-demand] [--idle-timeout SECONDS] [--log-level LEVEL] [--ready-fd FD] [--log-file PATH]
               nephod install-units [--directory DIR] [--executable PATH]
               nephod stdio [--no-autostart]
               nephod --version

        serve           listen on $XDG_RUNTIME_DIR/nepho/nephod.sock (or a socket passed by systemd)
                        and serve nepho clients until stopped (SIGTERM, `nepho daemon:stop`)
        --on-demand     started by a nepho client: exit after the idle time (default 600 s)
        --idle-timeout  seconds without clients before an on-demand daemon exits (0: never);
                        also NEPHOD_IDLE_TIMEOUT
        --log-level     trace, debug, info (default), notice, warning, error; also NEPHOD_LOG_LEVEL
        stdio           join standard input and output to this user's nephod (starting it when none
                        runs): what `nepho --host ssh://…` runs on this host through ssh
        install-units   write nephod.socket and nephod.service into ~/.config/systemd/user
        """

    /// Runs nephod with `arguments` (without the program name) and exits.
    public static func main(
        arguments: [String], makeEngine: @escaping @Sendable (NephoPaths) throws -> any NephoService,
        monitorCount: (@Sendable (any NephoService) -> Int)? = nil
    ) async -> Never {
        let environment = ProcessInfo.processInfo.environment
        var rest = arguments
        let command = rest.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "serve"
        if !rest.isEmpty && !rest[0].hasPrefix("-") { rest.removeFirst() }
        do {
            switch command {
            case "serve":
                if rest.contains("--version") {
                    print(NephoVersion.current)
                    exit(0)
                }
                if rest.contains("--help") || rest.contains("-h") {
                    print(usage)
                    exit(0)
                }
                let options = try ServeOptions(rest, environment: environment)
                exit(
                    await serve(
                        options, environment: environment, makeEngine: makeEngine, monitorCount: monitorCount)
                )
            case "install-units":
                try installUnits(rest, environment: environment)
                exit(0)
            case "help":
                print(usage)
                exit(0)
            default:
                throw UsageError(message: "unknown command \"\(command)\"")
            }
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("nephod: \(error.message)\n\(usage)\n".utf8))
            exit(64)
        } catch {
            FileHandle.standardError.write(Data("nephod: \(error)\n".utf8))
            exit(1)
        }
    }

    struct UsageError: Error { var message: String }

    struct ServeOptions {
        var onDemand = false
        var idleTimeout: Double?
        var logLevel = Logger.Level.info
        var readyFD: Int32?
        var logFile: String?

        init(_ arguments: [String], environment: [String: String]) throws {
            if let level = environment["NEPHOD_LOG_LEVEL"] { logLevel = try Self.level(level) }
            if let idle = environment["NEPHOD_IDLE_TIMEOUT"] { idleTimeout = try Self.seconds(idle) }
            var iterator = arguments.makeIterator()
            func value(_ flag: String) throws -> String {
                guard let value = iterator.next() else { throw UsageError(message: "\(flag) needs a value") }
                return value
            }
            while let argument = iterator.next() {
                switch argument {
                case "--on-demand": onDemand = true
                case "--idle-timeout": idleTimeout = try Self.seconds(try value(argument))
                case "--log-level": logLevel = try Self.level(try value(argument))
                case "--ready-fd":
                    let text = try value(argument)
                    guard let fd = Int32(text), fd > 2 else {
                        throw UsageError(message: "--ready-fd: bad descriptor \(text)")
                    }
                    readyFD = fd
                case "--log-file": logFile = try value(argument)
                default: throw UsageError(message: "unknown option \(argument)")
                }
            }
        }

        static func level(_ text: String) throws -> Logger.Level {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw UsageError(
                    message: "unknown log level \"\(text)\" (trace, debug, info, notice, warning, error)")
            }
            return level
        }

        static func seconds(_ text: String) throws -> Double {
            guard let value = Double(text), value >= 0 else {
                throw UsageError(message: "bad idle timeout \"\(text)\": give seconds, 0 for never")
            }
            return value
        }
    }

    private static func serve(
        _ options: ServeOptions, environment: [String: String],
        makeEngine: @Sendable (NephoPaths) throws -> any NephoService,
        monitorCount: (@Sendable (any NephoService) -> Int)? = nil
    ) async -> Int32 {
        let level = options.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "nephod")
        signal(SIGPIPE, SIG_IGN)

        let paths = NephoPaths(environment: environment)
        let inherited = Systemd.inheritedListener(environment: environment)
        let origin: DaemonConfiguration.Origin =
            inherited != nil ? .systemd : options.onDemand ? .autoStart : .manual
        var idle = options.idleTimeout
        if idle == nil && origin != .manual { idle = DaemonConfiguration.defaultIdleTimeout }
        if idle == 0 { idle = nil }
        let configuration = DaemonConfiguration(
            paths: paths, origin: origin, idleTimeout: idle, inheritedListener: inherited,
            logDestination: options.logFile ?? (environment["JOURNAL_STREAM"] != nil ? "journal" : "stderr"),
            readinessDescriptor: options.readyFD,
            keepAliveInterval: Double(environment["NEPHOD_KEEPALIVE_INTERVAL"] ?? "").flatMap {
                $0 > 0 ? $0 : nil
            } ?? 5)

        let server: DaemonServer
        do {
            let engine = try makeEngine(paths)
            server = DaemonServer(configuration: configuration, engine: engine, logger: logger)
            if let monitorCount { server.monitorCount = { monitorCount(engine) } }
            try server.start()
        } catch let error as AlreadyRunningError {
            logger.notice("\(error); this one exits")
            return 0
        } catch {
            logger.critical("nephod cannot start: \(error)")
            return 1
        }

        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { server.stop(reason: number == SIGTERM ? "SIGTERM" : "SIGINT") }
            source.resume()
            sources.append(source)
        }
        await server.waitUntilStopped()
        withExtendedLifetime(sources) {}
        return 0
    }

    private static func installUnits(_ arguments: [String], environment: [String: String]) throws {
        var directory = UnitFiles.userUnitDirectory(environment: environment)
        var executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--directory":
                guard let value = iterator.next() else {
                    throw UsageError(message: "--directory needs a value")
                }
                directory = URL(fileURLWithPath: value, isDirectory: true)
            case "--executable":
                guard let value = iterator.next() else {
                    throw UsageError(message: "--executable needs a value")
                }
                executable = value
            default: throw UsageError(message: "unknown option \(argument)")
            }
        }
        for path in try UnitFiles.install(into: directory, executable: executable) { print("wrote \(path)") }
        print("now run: systemctl --user daemon-reload && systemctl --user enable --now nephod.socket")
    }
}
