import NephoCLI
import Testing

@Suite struct CommandLineSpellingTests {
    @Test func twoWordsBecomeNounColonVerb() {
        #expect(CommandLineSpelling.normalize(["cloudlet", "list", "-o", "json"]) == ["cloudlet:list", "-o", "json"])
    }

    @Test func colonSpellingAndOtherWordsAreLeftAlone() {
        #expect(CommandLineSpelling.normalize(["cloudlet:list"]) == ["cloudlet:list"])
        #expect(CommandLineSpelling.normalize(["create", "mediawiki"]) == ["create", "mediawiki"])
        #expect(CommandLineSpelling.normalize(["cloudlet", "--help"]) == ["cloudlet", "--help"])
    }
}
