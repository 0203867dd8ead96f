import Foundation
import NephoStore
import NephoSupport

/// One vagrant event as a row of a build's event log, in the columns CloudFormation
/// events use (so `formation:watch` and `formation:logs` show both alike): an id unique
/// in the formation, a time, a logical id (the machine), a type, a status and a reason.
public struct VagrantLogEntry: Sendable, Equatable {
    /// `vagrant-BUILD-LINE-N`: the N-th event (from 0) of line LINE of the build's log.
    public var eventID: String
    /// Seconds since 1970 (UTC).
    public var timestamp: Int
    /// The machine (`default`), or `vagrant` for the environment as a whole.
    public var logicalID: String
    /// `Vagrant::Machine`, `Vagrant::Provisioner` or `Vagrant::Environment`.
    public var resourceType: String
    /// `UP_START`, `UP_END`, `STATE_RUNNING`, `PHASE 2/6`, `INFO`, `DETAIL`, `OUTPUT`,
    /// `PROVISIONER_SUCCESS`, `PROVISIONER_FAILURE`, `ERROR`, `METADATA`…
    public var status: String
    /// The text: a message, a provisioner line, a phase's text, an error's message.
    public var reason: String?

    public init(build: String, line: Int, index: Int, event: VagrantEvent) {
        eventID = "\(Self.eventIDPrefix)-\(build)-\(line)-\(index)"
        timestamp = event.timestamp
        logicalID = event.machine.isEmpty ? "vagrant" : event.machine
        resourceType = event.machine.isEmpty ? "Vagrant::Environment" : "Vagrant::Machine"
        switch event.kind {
        case .action(let name, let phase):
            status = "\(name)_\(phase.rawValue)".uppercased()
        case .message(let level, let text):
            status = level.rawValue.uppercased()
            reason = text
        case .state(let state):
            status = "STATE_\(state.rawValue.uppercased())"
        case .metadata(let key, let value):
            status = "METADATA"
            reason = "\(key)=\(value)"
        case .provisionerOutput(let text):
            resourceType = "Vagrant::Provisioner"
            status = "OUTPUT"
            reason = text
        case .phase(let phase):
            resourceType = "Vagrant::Provisioner"
            status = "PHASE \(phase.number)/\(phase.total)"
            reason = phase.text
        case .provisionerResult(let succeeded, let text):
            resourceType = "Vagrant::Provisioner"
            status = succeeded ? "PROVISIONER_SUCCESS" : "PROVISIONER_FAILURE"
            reason = text
        case .error(let failure):
            status = "ERROR"
            reason = "\(failure.errorClass): \(failure.message)"
        case .other(let type, let data):
            status = type.uppercased()
            reason = data.joined(separator: ",")
        }
    }

    /// The entry with every occurrence of the secrets' values in its text replaced by
    /// `<redacted>`: provisioners must not print secrets (docs/cloudlets.md), and this
    /// keeps one that does from reaching the database.
    public func redacting(_ secrets: [Secret]) -> VagrantLogEntry {
        guard var text = reason else { return self }
        for secret in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret.reveal(), with: "<redacted>")
        }
        var copy = self
        copy.reason = text
        return copy
    }

    /// What every event id of a vagrant build starts with.
    static let eventIDPrefix = "vagrant"

    /// The log line an event id came from: a resumed follower starts after the line of
    /// the last stored event (`VagrantLogFollower.follow(resumingAfter:)`).
    public static func line(ofEventID id: String) -> Int? {
        let parts = id.split(separator: "-")
        guard parts.count >= 4, parts[0] == Self.eventIDPrefix else { return nil }
        return Int(parts[parts.count - 2])
    }
}

/// A vagrant build's status in the words CloudFormation builds use, so that the build
/// log, `formation:list` and exit statuses treat both providers alike.
public enum VagrantBuildStatus {
    /// When it has ended: `…_COMPLETE`, or `…_FAILED` with the one-line error to store
    /// (the problem's message and what to do, with the secrets' values redacted: the
    /// provisioner's report is its script's last lines, which may print one).
    public static func finished(
        operation: BuildRecord.Operation, result: VagrantRunResult, secrets: [Secret]
    ) -> (status: String, error: String?) {
        if let problem = result.problem?.redacting(secrets) {
            return (VagrantDriver.word(operation, .failed), "\(problem.message). \(problem.remedy)")
        }
        return (VagrantDriver.word(operation, .complete), nil)
    }
}

extension VagrantLogFollower {
    /// `follow`, with each event as a `VagrantLogEntry` of build `build`.
    public func follow(
        build: String, resumingAfter stored: Int = 0, onEntry: (VagrantLogEntry) -> Void
    ) async throws -> VagrantRunResult {
        var currentLine = 0
        var index = 0
        return try await follow(resumingAfter: stored) { line, event in
            if line != currentLine {
                currentLine = line
                index = 0
            }
            onEntry(VagrantLogEntry(build: build, line: line, index: index, event: event))
            index += 1
        }
    }
}
