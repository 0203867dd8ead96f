import Foundation
import NephoCore
import NephoEngine
import NephoProtocol
import NephoSupport
import NephoTestBench
import Testing

/// `registry:build`'s page in headless Chromium: the list renders (`--dump-dom`),
/// hostile text stays text, and typing into the search box — real key events sent over
/// the DevTools protocol by `Fixtures/registry/cdp_type.py` — filters and ranks it.
/// The page, the dumped DOM, the typing report and a screenshot are kept under
/// `test-output/registry-page/`.
@Suite(.serialized) struct RegistryPageBrowserTests {
    static var outputFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("test-output/registry-page")
    }

    /// Builds a registry of three cloudlets (one with hostile text) into the output folder.
    func buildRegistry(_ sandbox: RegistrySandbox) async throws -> URL {
        let wiki = try await sandbox.cloudletRepository(
            "huit/mediawiki", summary: "generic mediawiki awesomeness")
        let kb = try await sandbox.cloudletRepository(
            "acme/kb", versions: ["0.3.0"], summary: "Knowledge base wiki farm")
        let odd = try await sandbox.cloudletRepository(
            "evil/page", versions: ["1.0.0"],
            summary: "'<img src=x onerror=\"document.title=1337\"><script>document.title=42</script>'")
        let out = Self.outputFolder
        try? FileManager.default.removeItem(at: out)
        let result = try await RegistryBuilder(git: sandbox.safeGit()).build(
            RegistryBuildParams(
                sources: [wiki.path, kb.path, odd.path], output: out.path, title: "Test cloudlets"))
        #expect(result.cloudlets == ["acme/kb", "evil/page", "huit/mediawiki"])
        let index = try RegistryIndex.decode(
            Data(contentsOf: URL(fileURLWithPath: result.index)), origin: "built", allowLocalSources: true)
        #expect(index.entry(named: "huit/mediawiki")?.versions == ["v1.1.0", "v1.0.0"])
        return URL(fileURLWithPath: result.page)
    }

    /// Runs Chromium headless on `page` with `arguments`; returns standard output.
    func chromium(_ arguments: [String], profile: URL) async throws -> String {
        guard let browser = ProcessRunner.resolve("chromium") else {
            Issue.record("chromium is not installed: run scripts/test, which installs it")
            return ""
        }
        let result = try await ProcessRunner.run(
            browser,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile.path)", "--virtual-time-budget=10000",
            ] + arguments, timeout: 180)
        #expect(result.status == 0, "chromium failed: \(result.errorOutput.suffix(2000))")
        return result.output
    }

    @Test func rendersEveryCloudletAndFiltersAsYouType() async throws {
        let sandbox = try RegistrySandbox()
        defer { sandbox.remove() }
        let page = try await buildRegistry(sandbox)
        let profile = sandbox.root.appendingPathComponent("chromium-profile")

        // The list as rendered: every cloudlet, its summary, install command, versions, link.
        let dom = try await chromium(["--dump-dom", page.absoluteString], profile: profile)
        try dom.write(
            to: Self.outputFolder.appendingPathComponent("rendered.html"), atomically: true, encoding: .utf8)
        #expect(dom.components(separatedBy: "<li class=\"cloudlet\"").count - 1 == 3)
        #expect(dom.contains("nepho cloudlet:install huit/mediawiki"))
        #expect(dom.contains("generic mediawiki awesomeness"))
        #expect(dom.contains("<li>v1.1.0</li><li>v1.0.0</li>"))
        #expect(dom.contains("href=\"https://example.com/mediawiki\""))
        #expect(dom.contains("3 cloudlets"))
        // Hostile text stayed text: no element was injected, no script ran.
        #expect(dom.contains("&lt;img src=x onerror="))
        #expect(!dom.contains("<title>1337") && !dom.contains("<title>42"))

        // Type into the search box with real key events over the DevTools protocol.
        guard let browser = ProcessRunner.resolve("chromium") else { return }
        let screenshot = Self.outputFolder.appendingPathComponent("search.png")
        let typing = try await ProcessRunner.run(
            "python3",
            [
                TestHTTPServer.fixtures.appendingPathComponent("registry/cdp_type.py").path, browser,
                page.absoluteString, "wiki farm", screenshot.path, profile.path + "-cdp",
            ], timeout: 180)
        #expect(typing.status == 0, "cdp_type.py failed: \(typing.errorOutput.suffix(2000))")
        try typing.standardOutput.write(to: Self.outputFolder.appendingPathComponent("typed.json"))
        let report = try JSONSerialization.jsonObject(with: typing.standardOutput) as? [String: Any]
        #expect(report?["focused"] as? String == "search")
        #expect(report?["value"] as? String == "wiki farm")
        #expect((report?["after_word"] as? [String: [String]])?["wiki"] == ["huit/mediawiki", "acme/kb"])
        #expect(report?["visible"] as? [String] == ["acme/kb"])
        #expect(report?["count"] as? String == "1 of 3 cloudlets")

        // The screenshot of the filtered page stays in test-output/registry-page/.
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 5000)
    }
}
