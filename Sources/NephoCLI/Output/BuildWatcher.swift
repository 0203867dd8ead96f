import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

/// Follows a build through `API.formationWatch` (a long poll resumed after the last
/// sequence number seen): replays its history, then prints events as they arrive until
/// the build ends. On a terminal (text output) a live table redrawn in place; elsewhere
/// one line per event; with `-o json` one JSON object per line (docs/formations.md).
/// Ctrl-C stops watching only: the build goes on, and the way back is printed.
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
        let interrupt = Self.detachOnInterrupt(name: name)
        defer { interrupt.cancel() }
        var after: Int64 = 0
        var table = LiveTable(name: name, color: color)
        var buildID = build
        while true {
            let result = try await api.call(
                API.formationWatch,
                FormationWatchParams(name: name, build: buildID, after: after, wait: 20))
            buildID = result.build.id
            for event in result.events {
                after = event.sequence
                table.add(event.event)
                switch format {
                case .json, .yaml: Self.printJSON(WatchLine(type: "event", formation: name, item: event))
                case .text where !live: Self.say(Self.line(event.event))
                default: break
                }
            }
            if live { table.draw(status: result.build.status) }
            if result.build.finishedAt != nil {
                return finish(result, table: table)
            }
        }
    }

    private func finish(_ result: FormationWatchResult, table: LiveTable) -> Int32 {
        let ok = result.build.succeeded == true
        switch format {
        case .json, .yaml:
            Self.printJSON(
                WatchEnd(type: "end", formation: name, build: result.build, outputs: result.outputs))
        case .text:
            if ok {
                Self.say("\(name): \(result.build.operation) finished: \(result.build.status)")
                for (key, value) in result.outputs.sorted(by: { $0.key < $1.key })
                where result.build.operation != "destroy" { Self.say("  \(key): \(value)") }
            } else {
                FileHandle.standardError.write(
                    Data(
                        "error: \(name): \(result.build.operation) failed (\(result.build.status)): \(result.build.error ?? "see `nepho formation:logs \(name)`")\n"
                            .utf8))
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

    struct WatchEnd: Encodable {
        let type: String
        let formation: String
        let build: BuildSummary
        let outputs: [String: String]
    }

    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func printJSON<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    /// Ctrl-C: say how to come back, and leave; the build is not touched.
    static func detachOnInterrupt(name: String) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(
                Data("\ndetached; the build goes on. Reattach with: nepho formation:watch \(name)\n".utf8))
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
