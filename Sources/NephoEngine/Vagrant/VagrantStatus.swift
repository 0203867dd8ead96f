import Foundation

/// One machine of `vagrant status --machine-readable`.
public struct VagrantMachineStatus: Sendable, Equatable {
    public var name: String
    public var provider: String?
    public var state: VagrantMachineState
    /// `state-human-short`, e.g. `not created`.
    public var summary: String?
    /// `state-human-long`: what the state means and what to do.
    public var explanation: String?

    /// Reads the whole output of `vagrant status --machine-readable`, machines in
    /// the order they appear. A machine without a `state` line is left out.
    public static func parse(_ output: String) -> [VagrantMachineStatus] {
        var order: [String] = []
        var found: [String: VagrantMachineStatus] = [:]
        for text in output.split(separator: "\n") {
            guard let line = VagrantMachineReadableLine.parse(text), !line.target.isEmpty,
                let value = line.data.first
            else { continue }
            if found[line.target] == nil {
                order.append(line.target)
                found[line.target] = VagrantMachineStatus(name: line.target, state: .unknown)
            }
            switch line.type {
            case "provider-name": found[line.target]?.provider = value
            case "metadata" where value == "provider" && line.data.count > 1:
                found[line.target]?.provider = line.data[1]
            case "state": found[line.target]?.state = VagrantMachineState(rawValue: value)
            case "state-human-short": found[line.target]?.summary = value
            case "state-human-long": found[line.target]?.explanation = value
            default: break
            }
        }
        return order.compactMap { found[$0] }.filter { $0.state != .unknown || $0.summary != nil }
    }
}

/// The address of a machine, from `vagrant ssh-config` (plain or `--machine-readable`).
public struct VagrantSSHConfig: Sendable, Equatable {
    /// The `Host` alias (the machine's name).
    public var host: String
    public var hostName: String
    public var user: String?
    public var port: Int?
    public var identityFiles: [String]
    /// Every option as printed, keyed by its name as Vagrant writes it (`HostName`, `Port`…).
    public var options: [String: String]

    /// `user@host -p port`, for people.
    public var address: String {
        (user.map { "\($0)@" } ?? "") + hostName + (port.map { " -p \($0)" } ?? "")
    }

    /// The arguments of `ssh` that reach the machine: `-p PORT -i KEY … user@host`.
    public var sshArguments: [String] {
        var arguments: [String] = []
        if let port { arguments += ["-p", String(port)] }
        for file in identityFiles { arguments += ["-i", file] }
        for key in ["UserKnownHostsFile", "StrictHostKeyChecking", "IdentitiesOnly", "LogLevel"] {
            if let value = options[key] { arguments += ["-o", "\(key)=\(value)"] }
        }
        arguments.append((user.map { "\($0)@" } ?? "") + hostName)
        return arguments
    }

    /// Reads every `Host` block; machine-readable `ssh-config` lines are unescaped first.
    public static func parse(_ output: String) -> [VagrantSSHConfig] {
        var text = ""
        var machineReadable = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if let parsed = VagrantMachineReadableLine.parse(line), parsed.type == "ssh-config",
                let config = parsed.data.first
            {
                if !machineReadable { text = "" }
                machineReadable = true
                text += config + "\n"
            } else if !machineReadable {
                text += line + "\n"
            }
        }
        var configs: [VagrantSSHConfig] = []
        var current: VagrantSSHConfig?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: " ", maxSplits: 1)
            let key = String(parts[0])
            var value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            if key == "Host" {
                if let current { configs.append(current) }
                current = VagrantSSHConfig(host: value, hostName: value, identityFiles: [], options: [:])
                continue
            }
            guard current != nil else { continue }
            switch key {
            case "HostName": current?.hostName = value
            case "User": current?.user = value
            case "Port": current?.port = Int(value)
            case "IdentityFile": current?.identityFiles.append(value)
            default: break
            }
            current?.options[key] = value
        }
        if let current { configs.append(current) }
        return configs
    }
}
