import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// `formation:logs NAME --chart`: a build as a Gantt chart, one row per resource with its
/// bars (each operation from its `*_IN_PROGRESS` to its terminal status), the critical path
/// marked: the chain of resources, each waiting for the one before it, that ends last.
struct GanttChart {
    struct Row: Equatable {
        var id: String
        var type: String
        /// Seconds from the build's start.
        var segments: [(start: Double, end: Double, operation: ResourceOperation, failed: Bool)]
        var critical = false

        var start: Double { segments.map(\.start).min() ?? 0 }
        var end: Double { segments.map(\.end).max() ?? 0 }

        static func == (lhs: Row, rhs: Row) -> Bool {
            lhs.id == rhs.id && lhs.critical == rhs.critical && lhs.start == rhs.start && lhs.end == rhs.end
        }
    }

    var title: String
    var rows: [Row]
    /// Seconds from the build's start to its last event (or its end).
    var duration: Double

    /// The chart of `log`; `dependencies` (what each resource waits for) find the critical
    /// path, else the resource that ended last before each one started stands for it.
    init(log: BuildLog, stack: String, dependencies: [String: [String]]?) {
        let events = log.events.compactMap {
            ObservedEvent(
                timestamp: $0.event.timestamp, logicalID: $0.event.logicalID,
                resourceType: $0.event.resourceType,
                status: $0.event.status)
        }
        let origin =
            Timestamp.date(log.build.startedAt).map { start in min(start, events.map(\.date).min() ?? start) }
            ?? events.map(\.date).min() ?? Date()
        let last = max(
            events.map(\.date).max() ?? origin, log.build.finishedAt.flatMap(Timestamp.date) ?? origin)
        duration = max(last.timeIntervalSince(origin), 0)
        var rows: [Row] = []
        var index: [String: Int] = [:]
        for span in ResourceSpan.spans(events, stack: stack) where !span.resourceType.hasPrefix("Nepho::") {
            let start = span.start.timeIntervalSince(origin)
            let end = (span.end ?? last).timeIntervalSince(origin)
            let segment = (start, end, span.operation, span.status.contains("FAILED"))
            if let at = index[span.logicalID] {
                rows[at].segments.append(segment)
            } else {
                index[span.logicalID] = rows.count
                rows.append(Row(id: span.logicalID, type: span.resourceType, segments: [segment]))
            }
        }
        for id in Self.criticalPath(rows, dependencies: dependencies) { rows[index[id]!].critical = true }
        self.rows = rows
        title =
            "build \(log.build.id): \(log.build.operation) \(log.build.status)  \(LiveTable.duration(duration))"
    }

    /// The critical path's resources, first to last.
    static func criticalPath(_ rows: [Row], dependencies: [String: [String]]?) -> [String] {
        let byID = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        guard var current = rows.max(by: { $0.end < $1.end }) else { return [] }
        var path = [current.id]
        var seen: Set<String> = [current.id]
        while true {
            let candidates: [Row]
            if let dependencies {
                candidates = (dependencies[current.id] ?? []).compactMap { byID[$0] }
            } else {
                // What ended last no later than (a second after) this one started.
                candidates = rows.filter { $0.id != current.id && $0.end <= current.start + 1 }
            }
            guard let previous = candidates.filter({ !seen.contains($0.id) }).max(by: { $0.end < $1.end })
            else {
                break
            }
            path.insert(previous.id, at: 0)
            seen.insert(previous.id)
            current = previous
        }
        return path
    }

    // MARK: terminal

    /// The chart for a terminal `columns` wide: every line shorter than that.
    func lines(columns: Int, color: Bool) -> [String] {
        let width = max(columns - 1, 30)
        let label = min(max(rows.map(\.id.count).max() ?? 0, 8), max(width / 3, 8))
        let timeWidth = 8
        let barWidth = max(width - label - 3 - timeWidth - 1, 10)
        var lines = [String(title.prefix(width))]
        let scale = duration > 0 ? Double(barWidth) / duration : 0
        let axisEnd = LiveTable.duration(duration)
        lines.append(
            String(
                (String(repeating: " ", count: label + 3) + "0s"
                    + String(repeating: " ", count: max(barWidth - 2 - axisEnd.count, 1)) + axisEnd).prefix(
                        width)))
        for row in rows {
            var cells = Array(repeating: Character(" "), count: barWidth)
            for segment in row.segments {
                // Rounded alike at both ends: a bar that starts when another ends starts in the next cell.
                let from = min(Int((segment.start * scale).rounded()), barWidth - 1)
                let to = max(min(Int((segment.end * scale).rounded()), barWidth), from + 1)
                let mark: Character =
                    segment.failed ? "x" : row.critical ? "#" : segment.operation == .delete ? "-" : "="
                for cell in from..<to { cells[cell] = mark }
            }
            let name = row.id.count > label ? String(row.id.prefix(label - 1)) + "…" : row.id
            let marker = row.critical ? "*" : " "
            var bar = String(cells)
            if color {
                let code = row.segments.contains(where: \.failed) ? "31" : row.critical ? "1;33" : "32"
                bar = "\u{1B}[\(code)m\(bar)\u{1B}[0m"
            }
            let time = LiveTable.duration(row.end - row.start)
            lines.append(
                marker + " " + name.padding(toLength: label, withPad: " ", startingAt: 0) + " " + bar + " "
                    + time.padding(toLength: timeWidth, withPad: " ", startingAt: 0))
        }
        let critical = rows.filter(\.critical).map(\.id)
        if !critical.isEmpty {
            let text = "* critical path: " + critical.joined(separator: " → ")
            lines.append(text.count > width ? String(text.prefix(width - 1)) + "…" : text)
        }
        // Trailing blanks are not needed on a terminal.
        return lines.map { line in
            var line = line
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    // MARK: HTML

    /// A standalone page (no script or style from elsewhere) with the same chart.
    func html(formation: String) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func percent(_ seconds: Double) -> String {
            String(format: "%.3f", duration > 0 ? seconds / duration * 100 : 0)
        }
        var body = ""
        for row in rows {
            var bars = ""
            for segment in row.segments {
                let classes =
                    ["bar", segment.operation.rawValue] + (segment.failed ? ["failed"] : [])
                    + (row.critical ? ["critical"] : [])
                bars +=
                    "<div class=\"\(classes.joined(separator: " "))\" style=\"left:\(percent(segment.start))%;"
                    + "width:\(percent(max(segment.end - segment.start, 0)))%\" title=\"\(escape(row.id)) "
                    + "\(segment.operation.rawValue) \(LiveTable.duration(segment.end - segment.start))\"></div>"
            }
            body += """
                <div class="row\(row.critical ? " critical" : "")" data-id="\(escape(row.id))">\
                <div class="label" title="\(escape(row.type))">\(row.critical ? "★ " : "")\(escape(row.id))</div>\
                <div class="track">\(bars)</div>\
                <div class="time">\(LiveTable.duration(row.end - row.start))</div></div>

                """
        }
        let critical = rows.filter(\.critical).map { escape($0.id) }.joined(separator: " → ")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <title>\(escape(formation)) — \(escape(title))</title>
            <style>
            body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
            h1 { font-size: 16px; }
            .chart { display: grid; gap: 3px; }
            .row { display: grid; grid-template-columns: 16em 1fr 6em; align-items: center; }
            .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
            .track { position: relative; height: 14px; background: #f2f2f2; }
            .bar { position: absolute; top: 2px; height: 10px; min-width: 2px; background: #5a9; }
            .bar.delete { background: #999; }
            .bar.critical { background: #d80; }
            .bar.failed { background: #c33; }
            .row.critical .label { font-weight: bold; }
            .time { text-align: right; color: #666; }
            </style></head>
            <body data-rows="\(rows.count)">
            <h1>\(escape(formation)): \(escape(title))</h1>
            <p>Critical path: \(critical.isEmpty ? "-" : critical)</p>
            <div class="chart" id="chart">
            \(body)</div>
            <script>
            // The page checks its own layout: every bar inside its track (read by tests and by anyone curious).
            const bars = [...document.querySelectorAll('.bar')];
            const inside = bars.every(b => { const t = b.parentElement.getBoundingClientRect(), r = b.getBoundingClientRect();
              return r.left >= t.left - 0.5 && r.right <= t.right + 2.5 && r.width > 0; });
            document.body.dataset.layout = inside ? 'ok' : 'overflow';
            document.body.dataset.bars = String(bars.length);
            document.body.dataset.critical = String(document.querySelectorAll('.row.critical').length);
            </script>
            </body></html>

            """
    }
}
