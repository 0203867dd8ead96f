import Foundation
import Testing

@testable import NephoCLI

/// Escape sequences in outside text (a hostile cloudlet's fields) never reach the
/// terminal raw: they are shown, not obeyed (docs/security.md).
@Suite struct TerminalEscapeTests {
    @Test func controlCharactersAreShownAndNephosOwnColoursKept() {
        let hostile = "wiki\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m\r done"
        let safe = TerminalText.safe("\u{1B}[1m" + hostile + "\u{1B}[0m")
        #expect(safe == "\u{1B}[1mwiki^[]0;pwned^G^[[2J\\u{9b}31m^M done\u{1B}[0m")
        #expect(TerminalText.safe("plain\ttext\nlines") == "plain\ttext\nlines")
    }

    @Test func aHostileCloudletsFieldsArePrintedInert() async throws {
        let nepho = NephoBinary()
        defer { Task { _ = try? await nepho.run(["daemon:stop"]) } }
        nepho.installDemo("evil")
        let manifest = nepho.home.appendingPathComponent("cloudlets/evil/cloudlet.yaml")
        var text = try String(contentsOf: manifest, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "summary: a demo cloudlet", with: #"summary: "title\e]0;pwned\a clear\e[2J bell\a""#)
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let described = try await nepho.run(["cloudlet:describe", "evil"])
        #expect(described.status == 0, "\(described.errorOutput)")
        #expect(
            !described.output.contains("\u{1B}") && !described.output.contains("\u{07}"),
            "\(described.output)")
        #expect(described.output.contains("title^[]0;pwned^G clear^[[2J bell^G"), "\(described.output)")
        let json = try await nepho.run(["cloudlet:describe", "evil", "-o", "json"])
        #expect(
            json.output.contains(#"\u001b]0;pwned\u0007"#), "machine output keeps the text, escaped as JSON")
    }
}
