import ArgumentParser
import Foundation
import NephoClient
import NephoCore
import NephoProtocol
import NephoSupport

/// Named remote hosts and the default host, kept in this machine's `$NEPHO_HOME/config.yaml`
/// (docs/remote.md). These commands edit the client's own settings: no daemon is asked.
struct HostEntry: Encodable {
    var name: String
    var url: String
    var isDefault: Bool
}

enum HostFile {
    static func edit(_ global: GlobalOptions, _ change: (inout NephoConfig) throws -> Void) throws {
        let paths = global.paths
        do {
            try PrivateHome.prepare(paths.home)
        } catch {
            throw NephoError(.permissionDenied, "\(error)")
        }
        var config = try load(paths.config)
        try change(&config)
        try config.save()
    }

    static func load(_ file: URL) throws -> NephoConfig {
        do {
            return try NephoConfig(file: file)
        } catch {
            throw NephoError(.invalidInput, "\(error)")
        }
    }

    static func entries(_ global: GlobalOptions) throws -> [HostEntry] {
        do {
            let file = global.paths.config
            let standard = try HostSettings.defaultHost(file)
            return try HostSettings.named(file).map {
                HostEntry(name: $0.name, url: $0.url, isDefault: $0.name == standard)
            }
        } catch let error as YAMLError {
            throw NephoError(.invalidInput, "\(error)")
        }
    }

    static func pairs(_ config: NephoConfig) -> [YAMLPair] { config[HostSettings.hostsKey]?.mapping ?? [] }

    static func checkName(_ name: String) throws {
        guard !name.isEmpty, name != "local",
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }),
            !name.hasPrefix("-")
        else {
            throw NephoError(
                .invalidInput,
                "bad host name \"\(name)\": use letters, digits, '.', '_' and '-' (\"local\" means this machine)"
            )
        }
    }

    /// Runs `body`, reporting a failure as every command does.
    static func run(_ renderer: Renderer, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw renderer.report(error)
        }
    }
}

extension Nepho {
    struct HostAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host:add",
            abstract: "Name a remote host (ssh://[USER@]HOST[:PORT]) for --host NAME.",
            discussion:
                "Kept in $NEPHO_HOME/config.yaml under hosts; --default makes it the host every command uses."
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The name to give it.") var name: String
        @Argument(help: "ssh://[USER@]HOST[:PORT]") var url: String
        @Flag(help: "Use this host by default (`--host local` then means this machine).") var `default` =
            false

        func run() async throws {
            let renderer = global.renderer
            try HostFile.run(renderer) {
                try HostFile.checkName(name)
                let host = try RemoteHost.parse(url)
                try HostFile.edit(global) { config in
                    var pairs = HostFile.pairs(config)
                    let value = YAMLNode.string(host.url)
                    if let index = pairs.firstIndex(where: { $0.key.scalar == name }) {
                        pairs[index].value = value
                    } else {
                        pairs.append(YAMLPair(key: .string(name), value: value))
                    }
                    config.set(HostSettings.hostsKey, YAMLNode(.mapping(pairs)))
                    if `default` { config.set(HostSettings.defaultKey, YAMLNode.string(name)) }
                }
                let entry = HostEntry(name: name, url: host.url, isDefault: `default`)
                try renderer.emit(entry) { out in
                    out.line("added host \(name): \(host.url)" + (`default` ? " (default)" : ""))
                }
            }
        }
    }

    struct HostList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host:list", abstract: "List the named remote hosts; the default one is marked.")

        @OptionGroup var global: GlobalOptions

        struct Listing: Encodable { var hosts: [HostEntry] }

        func run() async throws {
            let renderer = global.renderer
            try HostFile.run(renderer) {
                let hosts = try HostFile.entries(global)
                try renderer.emit(Listing(hosts: hosts)) { out in
                    if hosts.isEmpty {
                        out.line(
                            out.dim("# no hosts; add one with: nepho host:add NAME ssh://[USER@]HOST[:PORT]"))
                    }
                    out.table(hosts.map { [$0.name, $0.url, $0.isDefault ? "default" : ""] })
                }
            }
        }
    }

    struct HostRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host:remove",
            abstract: "Forget a named remote host (nothing on the host is touched).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The host's name.") var name: String

        func run() async throws {
            let renderer = global.renderer
            try HostFile.run(renderer) {
                guard try HostFile.entries(global).contains(where: { $0.name == name }) else {
                    throw NephoError(.notFound, "no host named \"\(name)\"; see `nepho host:list`")
                }
                try HostFile.edit(global) { config in
                    let pairs = HostFile.pairs(config).filter { $0.key.scalar != name }
                    config.set(HostSettings.hostsKey, pairs.isEmpty ? nil : YAMLNode(.mapping(pairs)))
                    if config[HostSettings.defaultKey]?.scalar == name {
                        config.set(HostSettings.defaultKey, nil)
                    }
                }
                try renderer.emit(HostEntry(name: name, url: "", isDefault: false)) { out in
                    out.line("removed host \(name)")
                }
            }
        }
    }

    struct HostDefault: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host:default",
            abstract: "Make a named host the default for every command (`local`: this machine again).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "A host's name, or local.") var name: String

        func run() async throws {
            let renderer = global.renderer
            try HostFile.run(renderer) {
                if name != "local" {
                    guard try HostFile.entries(global).contains(where: { $0.name == name }) else {
                        throw NephoError(
                            .notFound,
                            "no host named \"\(name)\"; add it with `nepho host:add \(name) ssh://…`")
                    }
                }
                try HostFile.edit(global) { config in
                    config.set(HostSettings.defaultKey, name == "local" ? nil : YAMLNode.string(name))
                }
                try renderer.emit(["default": name]) { out in
                    out.line(
                        name == "local"
                            ? "commands run on this machine by default" : "commands run on \(name) by default"
                    )
                }
            }
        }
    }
}

extension Nepho {
    struct HostInstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host:install",
            abstract:
                "Copy this nepho and nephod to a host (same architecture) and install nephod's systemd user units there.",
            discussion: """
                Copies into ~/.local/bin on the host through ssh, checks that nephod runs there, writes \
                nephod.socket and nephod.service into ~/.config/systemd/user and enables the socket when the \
                host runs systemd for the user. To keep the nanny running while you are logged out, an \
                administrator of the host runs `loginctl enable-linger USER` (not done for you).
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(
            help:
                "ssh://[USER@]HOST[:PORT], or a host's name (default: --host, NEPHO_HOST, the default host).")
        var target: String?
        @Flag(help: "Copy the programs only; write no systemd units.") var noUnits = false

        struct Installed: Encodable {
            var host: String
            var folder: String
            var version: String
            var units: Bool
            var socketEnabled: Bool
            var note: String?
        }

        func run() async throws {
            let renderer = global.renderer
            do {
                let environment = ProcessInfo.processInfo.environment
                guard
                    var host = try HostSettings.resolve(
                        option: target ?? global.host, environment: environment, config: global.paths.config)
                else {
                    throw NephoError(
                        .invalidInput,
                        "host:install needs a host: nepho host:install ssh://[USER@]HOST[:PORT]")
                }
                host.nephod = nil
                let installed = try await install(host, environment: environment)
                try renderer.emit(installed) { out in
                    out.line(
                        "installed nepho and nephod \(installed.version) into \(installed.folder) on \(host.host)"
                    )
                    if installed.units {
                        out.line(
                            installed.socketEnabled
                                ? "enabled nephod.socket there (systemd --user)"
                                : "wrote nephod.socket and nephod.service there; \(installed.note ?? "")")
                    }
                    out.line(
                        "to keep the nanny running while you are logged out there, an administrator runs: "
                            + "loginctl enable-linger \(host.user ?? "USER")")
                    out.line("now: nepho --host \(host.url) daemon:status")
                }
            } catch let error as YAMLError {
                throw renderer.report(NephoError(.invalidInput, "\(error)"))
            } catch let exit as ExitCode {
                throw exit
            } catch {
                throw renderer.report(error)
            }
        }

        /// Runs `command` on the host through ssh with `input` on its standard input.
        private func ssh(
            _ host: RemoteHost, _ command: String, input: Data? = nil, environment: [String: String]
        )
            async throws -> ProcessResult
        {
            let program = RemoteHost.sshProgram(environment: environment)
            return try await ProcessRunner.run(
                program[0], Array(program.dropFirst()) + host.sshArguments(command: command),
                environment: environment,
                input: input ?? Data(), timeout: 600)
        }

        private func failure(_ host: RemoteHost, _ result: ProcessResult, _ doing: String) -> NephoError {
            let said =
                result.errorOutput.split(separator: "\n").last.map(String.init)
                ?? "exit status \(result.status)"
            if result.status == 255 {
                return NephoError(
                    .daemonUnavailable,
                    "cannot \(doing) on \(host.url) (ssh: \(said)); check that `\(host.sshCommand) true` works"
                )
            }
            return NephoError(.toolFailed, "cannot \(doing) on \(host.host): \(said)")
        }

        private func install(_ host: RemoteHost, environment: [String: String]) async throws -> Installed {
            guard let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
                throw NephoError(.internalError, "cannot tell where this nepho is")
            }
            let folder = (me as NSString).deletingLastPathComponent
            let nephod =
                DaemonLauncher(paths: global.paths, environment: environment, autoStart: false)
                .nephodExecutable() ?? folder + "/nephod"
            var local = utsname()
            uname(&local)
            let machine = withUnsafeBytes(of: local.machine) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            let arch = try await ssh(host, "uname -m", environment: environment)
            guard arch.succeeded else { throw failure(host, arch, "ask the architecture") }
            let theirs = arch.output.trimmingCharacters(in: .whitespacesAndNewlines)
            guard theirs == machine else {
                throw NephoError(
                    .invalidInput,
                    "\(host.host) is \(theirs), this machine \(machine): copy a nepho built for \(theirs) there "
                        + "(into ~/.local/bin) instead")
            }
            for (name, path) in [("nepho", me), ("nephod", nephod)] {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw NephoError(.notFound, "cannot read \(path)")
                }
                let copy = """
                    sh -c 'umask 022 && mkdir -p "$HOME/.local/bin" && cat > "$HOME/.local/bin/.\(name).new" \
                    && chmod 755 "$HOME/.local/bin/.\(name).new" && mv -f "$HOME/.local/bin/.\(name).new" "$HOME/.local/bin/\(name)"'
                    """
                let copied = try await ssh(host, copy, input: data, environment: environment)
                guard copied.succeeded else { throw failure(host, copied, "copy \(name) into ~/.local/bin") }
            }
            let version = try await ssh(
                host, #"sh -c '"$HOME/.local/bin/nephod" --version'"#, environment: environment)
            let runs = version.output.trimmingCharacters(in: .whitespacesAndNewlines)
            guard version.succeeded, runs == NephoVersion.current else {
                let said = version.errorOutput.split(separator: "\n").last.map(String.init) ?? runs
                throw NephoError(
                    .toolFailed,
                    "the nephod copied to \(host.host) does not run there (\(said)): it needs the Swift runtime "
                        + "(build nepho with `swift build -c release --static-swift-stdlib`) and libyaml, libsqlite3 "
                        + "and libcurl (Debian: `apt-get install libyaml-0-2 libsqlite3-0 libcurl4`)")
            }
            let home = try await ssh(host, #"sh -c 'echo "$HOME"'"#, environment: environment)
            let bin = home.output.trimmingCharacters(in: .whitespacesAndNewlines) + "/.local/bin"
            var installed = Installed(
                host: host.url, folder: bin, version: runs, units: false, socketEnabled: false, note: nil)
            guard !noUnits else { return installed }
            let units = try await ssh(
                host, #"sh -c '"$HOME/.local/bin/nephod" install-units'"#, environment: environment)
            guard units.succeeded else { throw failure(host, units, "install nephod's systemd units") }
            installed.units = true
            let enable = try await ssh(
                host, "sh -c 'systemctl --user daemon-reload && systemctl --user enable --now nephod.socket'",
                environment: environment)
            if enable.succeeded {
                installed.socketEnabled = true
            } else {
                let said = enable.errorOutput.split(separator: "\n").last.map(String.init) ?? "no message"
                installed.note =
                    "systemd --user could not enable them (\(said)); until it can, `nephod stdio` starts the "
                    + "nanny on demand"
            }
            return installed
        }
    }
}
