import Foundation
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The live view of a build on a terminal: one row per resource (latest status, time
/// since its first event, type, reason), the provisioner's phase, and a progress bar;
/// redrawn in place (cursor up, erase down).
///
/// Every line is cut to the terminal's width and the table to its height, so a redraw
/// always moves back over exactly what the last one drew: a line that wrapped, or a
/// table taller than the screen, would otherwise leave a copy behind at each redraw.
struct LiveTable {
    var name: String
    var color: Bool
    var rows: [(id: String, type: String, status: String, reason: String, first: Date, last: Date)] = []
    var phases: [String] = []
    var phaseTotal = 0
    var phaseDone = 0
    var drawnLines = 0
    let started = Date()
    /// The daemon's latest progress and ETA, and when it came (the ETA counts down from then).
    var estimate: BuildEstimate?
    var estimatedAt = Date()

    init(name: String, color: Bool = false) {
        self.name = name
        self.color = color
    }

    mutating func add(_ event: BuildEvent) {
        let date = Self.date(event.timestamp) ?? Date()
        let id = event.logicalID ?? "-"
        if let phase = ProvisionerPhase(reason: event.reason) {
            phases.append(phase.summary)
            phaseTotal = phase.total
            phaseDone = phase.number
        }
        if let index = rows.firstIndex(where: { $0.id == id }) {
            rows[index].status = event.status ?? rows[index].status
            rows[index].reason = Self.oneLine(event.reason ?? "")
            rows[index].last = date
        } else {
            rows.append(
                (
                    id, event.resourceType ?? "-", event.status ?? "-", Self.oneLine(event.reason ?? ""),
                    date, date
                ))
        }
    }

    /// The lines of the table for a terminal of `columns` × `lines`, styled when `color`.
    func lines(status: String, columns: Int, lines height: Int) -> [String] {
        let width = max(columns - 1, 20)
        var lines: [String] = []
        lines.append(
            fit(
                [
                    (name, "1"), ("  ", nil), (status, style(status)),
                    ("  \(Int(Date().timeIntervalSince(started))) s", nil),
                ], width))
        let idWidth = min(rows.map(\.id.count).max() ?? 0, 28)
        let statusWidth = rows.map(\.status.count).max() ?? 0
        var shown = rows.indices.map { $0 }
        // Room for the header, the phase, the progress bar and a "more" line.
        let room = max(height - 1 - 4, 3)
        var hidden = 0
        if shown.count > room {
            // Keep the resources still at work; leave out the earliest finished ones.
            let finished = shown.filter { !rows[$0].status.hasSuffix("_IN_PROGRESS") }
            let drop = Set(finished.prefix(shown.count - room))
            hidden = drop.count
            shown.removeAll { drop.contains($0) }
            if shown.count > room { shown = Array(shown.suffix(room)) }
        }
        let overdue = Dictionary(
            (estimate?.overdue ?? []).map { ($0.logicalID, $0) }, uniquingKeysWith: { first, _ in first })
        for index in shown {
            let row = rows[index]
            var elapsed = Int(row.last.timeIntervalSince(row.first))
            // A resource past its p90: marked, with how long it usually takes.
            var late = ""
            if let mark = overdue[row.id], row.status.hasSuffix("_IN_PROGRESS") {
                elapsed = max(elapsed, Int(mark.elapsedSeconds))
                late = "  OVERDUE (usually \(Self.duration(mark.usualSeconds)))"
            }
            lines.append(
                fit(
                    [
                        ("  " + pad(row.id, idWidth) + "  ", nil),
                        (pad(row.status, statusWidth), style(row.status)),
                        ("  " + pad("\(elapsed) s", 6), nil),
                        (late, "1;31"),
                        ("  " + row.type, nil),
                        (row.reason.isEmpty ? "" : "  " + row.reason, "2"),
                    ], width))
        }
        if hidden > 0 { lines.append(fit([("  … \(hidden) more finished", "2")], width)) }
        if let phase = phases.last { lines.append(fit([("  provisioner: ", nil), (phase, "36")], width)) }
        var done = rows.filter { $0.status.hasSuffix("_COMPLETE") }.count
        var total = max(rows.count, 1)
        // A vagrant build has no resources that complete: its phases are the progress.
        let hasResources = rows.contains {
            $0.status.hasSuffix("_IN_PROGRESS") || $0.status.hasSuffix("_COMPLETE")
        }
        if !hasResources && phaseTotal > 0 {
            done = phaseDone
            total = phaseTotal
        }
        var eta = ""
        var label = "  ["
        if let estimate {
            // The daemon counts every resource of the template (nested stacks' too) and the phases.
            done = min(estimate.done, estimate.total)
            total = max(estimate.total, 1)
            if estimate.rollingBack { label = "  rollback [" }
            // Once the build has ended there is nothing left to forecast.
            if status.hasSuffix("_IN_PROGRESS") { eta = Self.eta(estimate, since: estimatedAt) }
        }
        let barWidth = 30
        let filled = barWidth * min(done, total) / total
        lines.append(
            fit(
                [
                    (label, estimate?.rollingBack == true ? "31" : nil),
                    (String(repeating: "#", count: filled), "32"),
                    (String(repeating: ".", count: barWidth - filled) + "] \(done)/\(total)", nil),
                    (eta, nil),
                ], width))
        return lines
    }

    /// `  ETA 2m 10s`, counted down since the estimate came; `(typical durations)` until
    /// this nanny has learned the types; empty when the daemon cannot say.
    static func eta(_ estimate: BuildEstimate, since: Date, now: Date = Date()) -> String {
        guard let remaining = estimate.remainingSeconds else { return "" }
        let left = max(0, remaining - now.timeIntervalSince(since))
        var text = "  ETA " + (left < 1 && remaining > 0 ? "any moment" : duration(left))
        if estimate.basis != "learned" { text += " (typical durations)" }
        return text
    }

    /// `45s`, `2m 05s`, `1h 02m`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m \(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h \(String(format: "%02d", whole % 3600 / 60))m"
    }

    /// Draws the table over the previous drawing.
    mutating func draw(status: String) {
        let (columns, height) = Self.terminalSize()
        let lines = lines(status: status, columns: columns, lines: height)
        // Back over the last drawing (nepho's own cursor moves), then the rows made safe.
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : ""
        text += TerminalText.safe(lines.joined(separator: "\n") + "\n")
        FileHandle.standardOutput.write(Data(text.utf8))
        drawnLines = lines.count
    }

    /// The SGR code for a status: green done, red failed or rolled back, yellow at work.
    private func style(_ status: String) -> String? {
        if status.contains("FAILED") || status.contains("ROLLBACK") { return "31" }
        if status.hasSuffix("_COMPLETE") { return "32" }
        if status.hasSuffix("_IN_PROGRESS") { return "33" }
        return nil
    }

    /// Joins styled pieces, cut to `width` visible characters.
    private func fit(_ pieces: [(text: String, style: String?)], _ width: Int) -> String {
        var line = ""
        var left = width
        for piece in pieces where left > 0 && !piece.text.isEmpty {
            let text = String(piece.text.prefix(left))
            left -= text.count
            if color, let style = piece.style {
                line += "\u{1B}[\(style)m\(text)\u{1B}[0m"
            } else {
                line += text
            }
        }
        return line
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width
            ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    /// Columns and lines of the terminal on standard output (80 × 24 when unknown).
    static func terminalSize() -> (columns: Int, lines: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        let environment = ProcessInfo.processInfo.environment
        return (Int(environment["COLUMNS"] ?? "") ?? 80, Int(environment["LINES"] ?? "") ?? 24)
    }

    static func date(_ text: String) -> Date? { Timestamp.date(text) }

    /// A reason on one line: the redraw counts the lines it wrote (a FAILURE signal's
    /// reason carries the log's last lines).
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
