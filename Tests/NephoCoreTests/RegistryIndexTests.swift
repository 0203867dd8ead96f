import Foundation
import NephoCore
import Testing

func entryJSON(_ name: String, summary: String = "A cloudlet", source: String? = nil, extra: String = "")
    -> String
{
    let src = source ?? "https://git.example.com/\(name).git"
    return """
        {"name": "\(name)", "summary": "\(summary)", "version": "v1.1.0", "versions": ["v1.1.0", "v1.0.0"],
         "source": "\(src)"\(extra)}
        """
}

func indexJSON(_ entries: [String], version: Int = 1) -> Data {
    Data("{\"format_version\": \(version), \"cloudlets\": [\(entries.joined(separator: ","))]}".utf8)
}

@Suite struct RegistryIndexTests {
    @Test func decodesAFullEntry() throws {
        let data = indexJSON([
            entryJSON(
                "huit/mediawiki", summary: "generic mediawiki awesomeness",
                extra: """
                    , "description": "Single and multi-site.", "author": "HUIT", "license": "Apache-2.0",
                    "project_page": "https://github.com/huit/nepho-mediawiki", "keywords": ["wiki", "php"]
                    """)
        ])
        let index = try RegistryIndex.decode(data, origin: "test", allowLocalSources: false)
        let entry = try #require(index.entry(named: "HUIT/MediaWiki"))
        #expect(entry.summary == "generic mediawiki awesomeness")
        #expect(entry.projectPage == "https://github.com/huit/nepho-mediawiki")
        #expect(entry.keywords == ["wiki", "php"])
        #expect(entry.folderName == "huit-mediawiki")
        #expect(entry.tag(for: "1.0.0") == "v1.0.0")
        #expect(entry.tag(for: "v1.1.0") == "v1.1.0")
        #expect(entry.tag(for: "2.0") == nil)
    }

    @Test func roundTripsThroughTheEncoder() throws {
        let index = RegistryIndex(
            name: "team",
            cloudlets: [
                RegistryEntry(
                    name: "a/b", summary: "s", version: "v1", versions: ["v1"],
                    source: "https://h.example/a/b.git",
                    projectPage: "https://h.example/a/b", keywords: ["k"])
            ])
        let decoded = try RegistryIndex.decode(index.encoded(), origin: "t", allowLocalSources: false)
        #expect(decoded == index)
    }

    /// Each bad index gets an error naming the entry and the field.
    @Test(arguments: [
        (
            indexJSON([entryJSON("a/b", summary: "two\\nlines")]),
            "field 'summary' contains control characters"
        ),
        (
            Data("{\"format_version\": 1, \"cloudlets\": [{\"name\": \"a/b\"}]}".utf8),
            "cloudlets[0] 'a/b': field 'summary' is missing"
        ),
        (
            Data("{\"format_version\": 1, \"cloudlets\": [{\"name\": \"a/b\", \"summary\": 7}]}".utf8),
            "cloudlets[0] 'a/b': field 'summary' must be a string"
        ),
        (indexJSON([entryJSON("a/b", extra: ", \"keywords\": \"x\"")]), "field 'keywords' must be a list"),
        (indexJSON([entryJSON("../../etc")]), "field 'name'"),
        (indexJSON([entryJSON("a/..")]), "must start each part with a letter or digit"),
        (indexJSON([entryJSON("a/b/c")]), "exactly one '/'"),
        (
            indexJSON([entryJSON("a/b", source: "ext::sh -c touch% /tmp/pwned")]),
            "cloudlets[0] 'a/b': field 'source'"
        ),
        (indexJSON([entryJSON("a/b", source: "ext::sh")]), "'ext::' transport"),
        (indexJSON([entryJSON("a/b", source: "ssh://-oProxyCommand=x/y")]), "starts with '-'"),
        (indexJSON([entryJSON("a/b", source: "/srv/git/b")]), "only allowed in a registry on this machine"),
        (
            indexJSON([entryJSON("a/b", extra: ", \"project_page\": \"javascript:alert(1)\"")]),
            "field 'project_page' must be an http"
        ),
        (
            Data(
                #"{"format_version": 1, "cloudlets": [{"name": "a/b", "summary": "s", "version": "--upload-pack=x", "versions": ["--upload-pack=x"], "source": "https://h.example/a/b.git"}]}"#
                    .utf8), "'--upload-pack=x' is not an acceptable git tag"
        ),
        (indexJSON([entryJSON("a/b"), entryJSON("A/B")]), "already used by cloudlets[0]"),
        (indexJSON([], version: 2), "format_version 2"),
        (Data("{\"cloudlets\": []}".utf8), "'format_version' is missing"),
        (Data("{\"format_version\": 1, \"cloudlets\": [{\"name\": \"a/b\", \"summ".utf8), "not valid JSON"),
        (Data(), "empty"),
    ])
    func refusesBadIndexesNamingEntryAndField(data: Data, expected: String) {
        #expect {
            _ = try RegistryIndex.decode(
                data, origin: "https://registry.example/index.json", allowLocalSources: false)
        } throws: { error in
            let text = "\(error)"
            return text.contains(expected) && text.contains("registry https://registry.example/index.json")
        }
    }

    @Test func refusesAnIndexOverTheSizeLimit() {
        let data = Data(count: RegistryLimits.indexBytes + 1)
        #expect {
            _ = try RegistryIndex.decode(data, origin: "big", allowLocalSources: false)
        } throws: { "\($0)".contains("more than the limit") }
    }

    @Test func localSourcesAreAllowedInLocalRegistries() throws {
        let index = try RegistryIndex.decode(
            indexJSON([entryJSON("a/b", source: "/srv/git/b")]), origin: "file", allowLocalSources: true)
        #expect(index.cloudlets.count == 1)
    }
}

@Suite struct RegistrySearchTests {
    let entries = [
        RegistryEntry(
            name: "zeta/tools", summary: "Handy tools", description: "Includes a mediawiki backup job",
            version: "v1",
            versions: ["v1"], source: "https://h.example/z.git"),
        RegistryEntry(
            name: "tfhartmann/mediawiki", summary: "like huit but even better", version: "v1",
            versions: ["v1"],
            source: "https://h.example/t.git"),
        RegistryEntry(
            name: "acme/wiki-farm", summary: "Many MediaWiki sites on one host", version: "v1",
            versions: ["v1"],
            source: "https://h.example/a.git"),
        RegistryEntry(
            name: "huit/mediawiki", summary: "generic mediawiki awesomeness", version: "v2", versions: ["v2"],
            source: "https://h.example/h.git"),
        RegistryEntry(
            name: "ops/kb", summary: "Knowledge base", version: "v1", versions: ["v1"],
            source: "https://h.example/k.git",
            keywords: ["MediaWiki"]),
        RegistryEntry(
            name: "ops/nothing", summary: "Unrelated", version: "v1", versions: ["v1"],
            source: "https://h.example/n.git"),
    ]

    @Test func ranksNameAboveSummaryAboveDescriptionAndKeywords() {
        let hits = RegistrySearch(registries: [entries]).search("mediawiki")
        #expect(
            hits.map(\.name) == [
                "huit/mediawiki", "tfhartmann/mediawiki", "acme/wiki-farm", "ops/kb", "zeta/tools",
            ])
        #expect(hits.map(\.field) == [.exactName, .exactName, .summary, .description, .description])
    }

    @Test func everyWordMustMatch() {
        let hits = RegistrySearch(registries: [entries]).search("MediaWiki backup")
        #expect(hits.map(\.name) == ["zeta/tools"])
    }

    @Test func anEmptyQueryListsEverythingByName() {
        let hits = RegistrySearch(registries: [entries]).search("")
        #expect(hits.map(\.name) == entries.map(\.name).sorted())
    }

    @Test func theFirstRegistryWinsForADuplicateName() {
        let other = [
            RegistryEntry(
                name: "HUIT/mediawiki", summary: "a fork", version: "v9", versions: ["v9"],
                source: "https://o.example/h.git")
        ]
        let hits = RegistrySearch(registries: [entries, other]).search("huit")
        #expect(hits.first?.summary == "generic mediawiki awesomeness")
        #expect(hits.filter { $0.name.lowercased() == "huit/mediawiki" }.count == 1)
        let reversed = RegistrySearch(registries: [other, entries]).search("huit")
        #expect(reversed.first?.summary == "a fork")
        #expect(reversed.first?.registry == 0)
    }

    @Test func searchesATableReadBackFromDisk() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-\(UUID().uuidString).search")
        defer { try? FileManager.default.removeItem(at: file) }
        try RegistrySearchTable(entries: entries).write(to: file)
        let table = try #require(RegistrySearchTable(contentsOf: file))
        #expect(RegistrySearch(tables: [table]).search("knowledge").map(\.name) == ["ops/kb"])
    }
}
