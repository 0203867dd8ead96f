import Foundation
import NephoClient
import NephoCore
import NephoProtocol
import NephoSupport

/// Named hosts and the default host, in `$NEPHO_HOME/config.yaml` (docs/remote.md):
///
/// ```yaml
/// hosts:
///   build: ssh://ops@build.example.com:2222
/// default_host: build
/// ```
enum HostSettings {
    static let hostsKey = "hosts"
    static let defaultKey = "default_host"

    /// The host a command runs against: `--host`, else `NEPHO_HOST`, else the default host
    /// of config.yaml; `local` (or none) is this machine. `NEPHO_REMOTE_NEPHOD` names the
    /// nephod to run there.
    static func resolve(option: String?, environment: [String: String], config: URL) throws -> RemoteHost? {
        var name =
            option.flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["NEPHO_HOST"].flatMap { $0.isEmpty ? nil : $0 }
        if name == nil { name = try defaultHost(config) }
        guard let name, name != "local" else { return nil }
        var host: RemoteHost
        if name.contains("://") {
            host = try RemoteHost.parse(name)
        } else {
            let hosts = try named(config)
            guard let url = hosts.first(where: { $0.name == name })?.url else {
                let known = hosts.map(\.name).joined(separator: ", ")
                throw NephoError(
                    .notFound,
                    "no host named \"\(name)\" (\(known.isEmpty ? "none added" : "known: \(known)")); give "
                        + "ssh://[USER@]HOST[:PORT] or add it with `nepho host:add \(name) ssh://…`")
            }
            host = try RemoteHost.parse(url)
        }
        if let nephod = environment["NEPHO_REMOTE_NEPHOD"], !nephod.isEmpty { host.nephod = nephod }
        return host
    }

    /// The named hosts, in order.
    static func named(_ file: URL) throws -> [(name: String, url: String)] {
        let config = try NephoConfig(file: file)
        guard let node = config[hostsKey], !node.isNull else { return [] }
        guard let pairs = node.mapping else {
            throw YAMLError(
                file: file.path, mark: node.mark,
                message: "\"hosts\" must map names to ssh:// URLs (e.g. build: ssh://ops@build.example.com)")
        }
        return try pairs.map { pair in
            guard let name = pair.key.scalar, let url = pair.value.scalar else {
                throw YAMLError(
                    file: file.path, mark: pair.value.mark,
                    message: "each host is NAME: ssh://[USER@]HOST[:PORT]")
            }
            do {
                _ = try RemoteHost.parse(url)
            } catch let error as NephoError {
                throw YAMLError(file: file.path, mark: pair.value.mark, message: error.message)
            }
            return (name, url)
        }
    }

    static func defaultHost(_ file: URL) throws -> String? {
        let config = try NephoConfig(file: file)
        guard let node = config[defaultKey], !node.isNull else { return nil }
        guard let name = node.scalar, !name.isEmpty else {
            throw YAMLError(
                file: file.path, mark: node.mark, message: "\"default_host\" must be a host's name")
        }
        return name
    }
}
