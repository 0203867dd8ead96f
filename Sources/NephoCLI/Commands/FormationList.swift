import ArgumentParser
import Foundation
import NephoProtocol
import NephoSupport

extension Nepho {
    struct FormationList: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "formation:list",
            abstract: "List formations: nepho's own and nepho-tagged stacks in the account and region.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Also list destroyed formations.") var all = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(API.formationList, FormationListParams(all: all ? true : nil))
            try renderer.emit(result) { out in
                if result.formations.isEmpty {
                    out.line("no formations (create one with `nepho create CLOUDLET`)")
                }
                let building = result.formations.contains { $0.progress != nil }
                var rows = [["NAME", "CLOUDLET", "SCENARIO", "STATUS", "AGE", "SOURCE"]]
                if building { rows[0].append("PROGRESS") }
                for formation in result.formations {
                    rows.append([
                        formation.name, formation.cloudlet ?? "-", formation.scenario ?? "-",
                        formation.status,
                        FormationAge.text(formation.createdAt), formation.source,
                    ])
                    if building { rows[rows.count - 1].append(formation.progress.map(Self.progress) ?? "") }
                }
                if !result.formations.isEmpty { out.table(rows) }
            }
            // Warnings are for people, on standard error; the JSON and YAML documents carry them too.
            if renderer.format == .text { RegistryWarnings.print(result.warnings, renderer: renderer) }
        }

        /// `[####......] 4/10 ETA 2m 10s` for a build in flight (`rollback [...]` in a rollback).
        static func progress(_ estimate: BuildEstimate) -> String {
            let total = max(estimate.total, 1)
            let filled = 10 * min(estimate.done, total) / total
            var text =
                (estimate.rollingBack ? "rollback " : "") + "["
                + String(repeating: "#", count: filled) + String(repeating: ".", count: 10 - filled)
                + "] \(estimate.done)/\(estimate.total)"
            if let remaining = estimate.remainingSeconds { text += " ETA " + LiveTable.duration(remaining) }
            if !estimate.overdue.isEmpty { text += " (\(estimate.overdue.count) overdue)" }
            return text
        }
    }
}

/// `3m`, `2h`, `5d`: how long ago an ISO 8601 time was.
enum FormationAge {
    static func text(_ stamp: String) -> String {
        guard let date = Timestamp.date(stamp) else {
            return "-"
        }
        let seconds = Int(max(0, Date().timeIntervalSince(date)))
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }
}
