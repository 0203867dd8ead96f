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
}
