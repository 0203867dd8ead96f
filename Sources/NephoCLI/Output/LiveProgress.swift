import Foundation
import NephoProtocol

/// A request's progress (git's clone and fetch progress, the install's notices) on the
/// terminal as it comes: on standard error, only when that is a terminal and the output is
/// text; a line git redraws (ending in `\r`) is redrawn in place. Never with -o json/yaml,
/// nor when standard error is a file or a pipe.
final class LiveProgress: @unchecked Sendable {
    private let lock = NSLock()
    /// The last line shown is one to redraw (no newline after it yet).
    private var open = false
    /// Whether anything was shown.
    private(set) var shown = false

    /// Whether a command with `format` shows progress here.
    static func wanted(_ format: OutputFormat) -> Bool {
        format == .text && isatty(STDERR_FILENO) == 1
    }

    /// Runs `body` (a request that asked for progress when `enabled`) with its progress shown.
    static func showing<T: Sendable>(_ enabled: Bool, _ body: () async throws -> T) async throws -> (T, Bool)
    {
        guard enabled else { return (try await body(), false) }
        let live = LiveProgress()
        defer { live.finish() }
        let result = try await RequestProgress.$report.withValue({ live.show($0) }) { try await body() }
        return (result, live.shown)
    }

    /// Shows one line: `\r`, the line made safe, erase to the end of the line, and a newline
    /// unless git redraws it.
    func show(_ text: String) {
        let redrawn = text.hasSuffix("\r")
        let line = TerminalText.safe(redrawn ? String(text.dropLast()) : text)
        lock.withLock {
            FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K" + (redrawn ? "" : "\n")).utf8))
            open = redrawn
            shown = true
        }
    }

    /// Clears a line left to redraw (git stopped before its last word).
    func finish() {
        lock.withLock {
            if open { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            open = false
        }
    }
}
