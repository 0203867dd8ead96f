import ArgumentParser
import Foundation
import NephoClient
import NephoProtocol
import NephoSupport

/// Follows a build through `API.formationFollow` (a stream: the build's history, then
/// each event as it is stored, then the outcome). On a terminal (text output) a live
/// table redrawn in place after each batch of events; elsewhere one line per event; with
/// `-o json` one JSON object per line (docs/formations.md). Ctrl-C stops watching only:
/// the build goes on, and the way back is printed. Watching a remote host (`--host`), a
/// lost connection is made again with back-off, and the stream resumes after the last
/// event shown: nothing lost, nothing twice (docs/remote.md).
struct BuildWatcher {
    var api: any NephoAPI
    var name: String
    var build: Int64?
    var format: OutputFormat
    var live: Bool
    /// Colour in the live table: on a terminal, never with NO_COLOR.
    var color: Bool

    init(api: any NephoAPI, name: String, build: Int64? = nil, format: OutputFormat) {
        self.api = api
        self.name = name
        self.build = build
        self.format = format
        live =
            format == .text && isatty(STDOUT_FILENO) == 1
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        color = live && Renderer(format: format).color
    }

    /// Watches to the end; returns the exit status (0: the build succeeded).
    func run() async throws -> Int32 {
        let remote = (api as? DaemonClient)?.host
        let interrupt = Self.detachOnInterrupt(name: name, host: remote)
        defer { interrupt.cancel() }
        var table = LiveTable(name: name, color: color)
        var watched = build
        var after: Int64 = 0
        var lostSince: Date?
        var attempt = 0
        while true {
            do {
                let progress = try await api.follow(
                    API.formationFollow, FormationFollowParams(name: name, build: watched, after: after))
                if lostSince != nil, let remote {
                    Self.note("reconnected to \(remote.host); resuming after event \(after)")
                    lostSince = nil
                    attempt = 0
                }
                for try await item in progress {
                    if let status = try show(item, table: &table, watched: &watched, after: &after) {
                        return status
                    }
                }
                throw NephoError(
                    .daemonUnavailable, "the stream of \(name)'s build ended without its outcome")
            } catch let error as NephoError where error.code == .daemonUnavailable && remote != nil {
                let since = lostSince ?? Date()
                lostSince = since
                let remote = remote!
                guard Date().timeIntervalSince(since) < Self.reconnectLimit else {
                    throw NephoError(
                        .daemonUnavailable,
                        "\(error.message); gave up reconnecting after \(Int(Self.reconnectLimit / 60)) minutes. "
                            + "The build goes on there; reattach with: nepho --host \(remote.url) formation:watch \(name)"
                    )
                }
                // Ctrl-C reaches ssh too (it shares the terminal): give the interrupt's
                // handler the moment it needs to detach before a reconnect is announced.
                try await Task.sleep(nanoseconds: 200_000_000)
                attempt += 1
                let delay = min(Self.firstDelay * pow(2, Double(attempt - 1)), 30)
                Self.note(
                    "connection to \(remote.host) lost (\(error.message)); reconnecting in \(Self.seconds(delay)) "
                        + "(attempt \(attempt); Ctrl-C detaches)")
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            }
        }
    }

    /// How long a lost connection is tried again before the watch gives up (10 minutes).
    static let reconnectLimit: Double = 600
    /// The first wait before reconnecting; then twice as long each time, at most 30 s.
    static let firstDelay: Double = 1

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    /// A line on standard error (the output stays the stream's).
    static func note(_ line: String) {
        FileHandle.standardError.write(Data(TerminalText.safe(line + "\n").utf8))
    }

    /// Shows one item; the exit status once the build's outcome came.
    private func show(
        _ item: BuildProgress, table: inout LiveTable, watched: inout Int64?, after: inout Int64
    )
        throws -> Int32?
    {
        switch item.kind {
        case .build, .status:
            if let build = item.build, watched == nil { watched = build.id }
            if let estimate = item.estimate {
                table.estimate = estimate
                table.estimatedAt = Date()
                if format != .text, let build = item.build {
                    Renderer(format: format).streamItem(
                        WatchProgress(formation: name, build: build.id, estimate: estimate))
                }
            }
            if live, let build = item.build { table.draw(status: build.status) }
        case .event:
            guard let event = item.event else { return nil }
            after = max(after, event.sequence)
            table.add(event.event)
            switch format {
            case .json, .yaml:
                Renderer(format: format).streamItem(
                    WatchLine(type: "event", formation: name, item: event))
            case .text where !live: Self.say(Self.line(event.event))
            default: break
            }
        case .end:
            guard let build = item.build else { return nil }
            if let estimate = item.estimate {
                table.estimate = estimate
                table.estimatedAt = Date()
            }
            if live { table.draw(status: build.status) }
            return finish(build, outputs: item.outputs ?? [:])
        }
        return nil
    }

    private func finish(_ build: BuildSummary, outputs: [String: String]) -> Int32 {
        let ok = build.succeeded == true
        switch format {
        case .json, .yaml:
            Renderer(format: format).streamItem(
                WatchEnd(type: "end", formation: name, build: build, outputs: outputs))
        case .text:
            if ok {
                Self.say("\(name): \(build.operation) finished: \(build.status)")
                for (key, value) in outputs.sorted(by: { $0.key < $1.key })
                where build.operation != "destroy" { Self.say("  \(key): \(value)") }
            } else {
                FileHandle.standardError.write(
                    Data(
                        TerminalText.safe(
                            "error: \(name): \(build.operation) failed (\(build.status)): \(build.error ?? "see `nepho formation:logs \(name)`")\n"
                        ).utf8))
            }
        }
        return ok ? 0 : 1
    }

    /// One line per event: time, resource, type, status, reason.
    static func line(_ event: BuildEvent) -> String {
        let time =
            event.timestamp.count >= 19 ? String(event.timestamp.dropFirst(11).prefix(8)) : event.timestamp
        var text = "\(time)  \(event.logicalID ?? "-")  \(event.resourceType ?? "-")  \(event.status ?? "-")"
        if let reason = event.reason, !reason.isEmpty { text += "  \(reason)" }
        return text
    }

    struct WatchLine: Encodable {
        let type: String
        let formation: String
        let item: SequencedEvent
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(type, forKey: .type)
            try container.encode(formation, forKey: .formation)
            try container.encode(item.build, forKey: .build)
            try container.encode(item.sequence, forKey: .sequence)
            try container.encode(item.event.eventID, forKey: .eventID)
            try container.encode(item.event.timestamp, forKey: .timestamp)
            try container.encodeIfPresent(item.event.logicalID, forKey: .logicalID)
            try container.encodeIfPresent(item.event.resourceType, forKey: .resourceType)
            try container.encodeIfPresent(item.event.status, forKey: .status)
            try container.encodeIfPresent(item.event.reason, forKey: .reason)
        }
        enum Keys: String, CodingKey {
            case type, formation, build, sequence, eventID, timestamp, logicalID, resourceType, status, reason
        }
    }

    /// A `progress` line of `-o json`: done/total, the ETA, the resources past their p90.
    struct WatchProgress: Encodable {
        var type = "progress"
        let formation: String
        let build: Int64
        let estimate: BuildEstimate
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(type, forKey: .type)
            try container.encode(formation, forKey: .formation)
            try container.encode(build, forKey: .build)
            try container.encode(estimate.done, forKey: .done)
            try container.encode(estimate.total, forKey: .total)
            try container.encode(estimate.rollingBack, forKey: .rollingBack)
            try container.encode(estimate.elapsedSeconds, forKey: .elapsedSeconds)
            try container.encodeIfPresent(estimate.remainingSeconds, forKey: .remainingSeconds)
            try container.encode(estimate.basis, forKey: .basis)
            try container.encode(estimate.overdue, forKey: .overdue)
        }
        enum Keys: String, CodingKey {
            case type, formation, build, done, total, rollingBack, elapsedSeconds, remainingSeconds, basis,
                overdue
        }
    }

    struct WatchEnd: Encodable {
        let type: String
        let formation: String
        let build: BuildSummary
        let outputs: [String: String]
    }

    /// The first item of a build command's stream: the build it started (and for an
    /// update, the change set executed).
    struct WatchStart: Encodable {
        var type = "started"
        let formation: String
        let build: BuildSummary?
        var changeSet: String?
        var changes: [FormationChange]?
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data(TerminalText.safe(line + "\n").utf8))
    }

    /// Ctrl-C: say how to come back, and leave; the build is not touched.
    static func detachOnInterrupt(name: String, host: RemoteHost? = nil) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let command =
            host.map { "nepho --host \($0.url) formation:watch \(name)" } ?? "nepho formation:watch \(name)"
        source.setEventHandler {
            FileHandle.standardError.write(
                Data("\ndetached; the build goes on. Reattach with: \(command)\n".utf8))
            exit(130)
        }
        source.resume()
        return source
    }
}

/// Asks a yes/no question on the terminal; without one, `--yes` is required.
enum Confirmation {
    static func ask(_ question: String, yes: Bool) throws -> Bool {
        if yes { return true }
        guard let terminal = Terminal.interactive() else {
            throw NephoError(.invalidInput, "\(question) — no terminal to ask on: pass --yes")
        }
        let answer = terminal.readLine(prompt: "\(question) [y/N] ") ?? ""
        return ["y", "yes"].contains(answer.lowercased())
    }
}
