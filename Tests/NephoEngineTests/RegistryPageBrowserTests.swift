import Foundation
import NephoCore
import NephoEngine
import NephoProtocol
import NephoSupport
import Testing

/// `registry:build`'s page in headless Chromium: the list renders, typing in the search
/// box filters it, hostile text stays text. Output and a screenshot are kept under
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

    /// The value of `attribute` on <body> in dumped HTML.
    func bodyAttribute(_ attribute: String, in html: String) -> String? {
        guard let range = html.range(of: "\(attribute)=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
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

        // Type into the search box, one key at a time, as input events in the page.
        let typed = Self.outputFolder.appendingPathComponent("typed.html")
        let html = try String(contentsOf: page, encoding: .utf8).replacingOccurrences(
            of: "</body>", with: Self.typingScript(text: "wiki farm") + "</body>")
        try html.write(to: typed, atomically: true, encoding: .utf8)
        let after = try await chromium(["--dump-dom", typed.absoluteString], profile: profile)
        try after.write(
            to: Self.outputFolder.appendingPathComponent("typed-dom.html"), atomically: true, encoding: .utf8)
        #expect(bodyAttribute("data-test-done", in: after) == "yes", "the typing script did not finish")
        #expect(bodyAttribute("data-test-visible", in: after) == "acme/kb")
        #expect(bodyAttribute("data-test-count", in: after) == "1 of 3 cloudlets")
        #expect(bodyAttribute("data-test-after-first-word", in: after) == "huit/mediawiki,acme/kb")

        // And a picture of the filtered page.
        let screenshot = Self.outputFolder.appendingPathComponent("search.png")
        _ = try await chromium(
            [
                "--screenshot=\(screenshot.path)", "--window-size=1100,800", "--hide-scrollbars",
                typed.absoluteString,
            ],
            profile: profile)
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 5000)
    }

    /// A script that types `text` into #search key by key (InputEvent per character,
    /// as a keyboard would), then records what is visible on <body> for the test.
    static func typingScript(text: String) -> String {
        """
        <script>
        (async function () {
          var input = document.getElementById('search');
          var text = \(String(data: try! JSONEncoder().encode(text), encoding: .utf8)!);
          function visible() {
            return Array.prototype.filter.call(document.querySelectorAll('#cloudlets > li'), function (li) { return !li.hidden; })
              .map(function (li) { return li.dataset.name; }).join(',');
          }
          input.focus();
          for (var i = 0; i < text.length; i++) {
            var ch = text[i];
            input.dispatchEvent(new KeyboardEvent('keydown', { key: ch, bubbles: true }));
            input.value += ch;
            input.dispatchEvent(new InputEvent('input', { data: ch, inputType: 'insertText', bubbles: true }));
            input.dispatchEvent(new KeyboardEvent('keyup', { key: ch, bubbles: true }));
            if (text.slice(0, i + 1) === 'wiki') document.body.setAttribute('data-test-after-first-word', visible());
            await new Promise(function (resolve) { setTimeout(resolve, 20); });
          }
          document.body.setAttribute('data-test-visible', visible());
          document.body.setAttribute('data-test-count', document.getElementById('count').textContent);
          document.body.setAttribute('data-test-done', 'yes');
        })();
        </script>
        """
    }
}
