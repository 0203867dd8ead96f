import NephoCLI
import Testing

@Suite struct CommandLineSpellingTests {
    @Test func twoWordsBecomeNounColonVerb() {
        #expect(
            CommandLineSpelling.normalize(["cloudlet", "list", "-o", "json"]) == [
                "cloudlet:list", "-o", "json",
            ])
    }

    @Test func roadmapShortcutsAreFormationCommands() {
        #expect(CommandLineSpelling.normalize(["create", "mediawiki"]) == ["formation:create", "mediawiki"])
        #expect(
            CommandLineSpelling.normalize(["destroy", "web", "--yes"]) == [
                "formation:destroy", "web", "--yes",
            ])
        #expect(CommandLineSpelling.normalize(["open", "web"]) == ["formation:open", "web"])
        #expect(
            CommandLineSpelling.normalize(["ssh", "web", "--", "uptime"]) == [
                "formation:ssh", "web", "--", "uptime",
            ])
    }

    @Test func colonSpellingAndOtherWordsAreLeftAlone() {
        #expect(CommandLineSpelling.normalize(["cloudlet:list"]) == ["cloudlet:list"])
        #expect(
            CommandLineSpelling.normalize(["register", "--profile", "x"]) == ["register", "--profile", "x"])
        #expect(CommandLineSpelling.normalize(["cloudlet", "--help"]) == ["cloudlet", "--help"])
    }

    @Test func globalOptionsBeforeTheCommandMoveAfterIt() {
        #expect(
            CommandLineSpelling.normalize([
                "--host", "ssh://ops@build", "--forward-credentials", "host", "list",
            ]) == [
                "host:list", "--host", "ssh://ops@build", "--forward-credentials",
            ])
        #expect(
            CommandLineSpelling.normalize(["--foreground", "formation:list"]) == [
                "formation:list", "--foreground",
            ])
        #expect(
            CommandLineSpelling.normalize(["-o", "json", "cloudlet", "list", "x"]) == [
                "cloudlet:list", "-o", "json", "x",
            ])
        #expect(
            CommandLineSpelling.normalize(["--no-autostart", "--output=yaml", "create", "demo"]) == [
                "formation:create", "--no-autostart", "--output=yaml", "demo",
            ])
        #expect(CommandLineSpelling.normalize(["-o", "json"]) == ["-o", "json"])
        #expect(CommandLineSpelling.normalize(["--version"]) == ["--version"])
    }

    @Test func helpRequestsAreGroupedOrPassedToTheCommand() {
        #expect(CommandHelp.request(["help", "create"]) == .arguments(["formation:create", "--help"]))
        #expect(
            CommandHelp.request(["help", "cloudlet", "list"]) == .arguments(["cloudlet:list", "--help"]))
        #expect(CommandHelp.request(["cloudlet:list", "--help"]) == nil)
        #expect(CommandHelp.request(["cloudlet", "list", "--help"]) == nil)
        guard case .text(let text) = CommandHelp.request(["formation", "--help"]) else {
            Issue.record("no noun help")
            return
        }
        #expect(text.contains("formation:create"))
    }
}
