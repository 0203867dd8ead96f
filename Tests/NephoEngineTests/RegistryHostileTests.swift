import Foundation
import NephoCore
import NephoEngine
import NephoProtocol
import NephoSupport
import NephoTestBench
import Testing

/// Hostile or broken input: each gets a clear error, and neither the cloudlet
/// directory nor the registry cache changes.
@Suite(.serialized) struct RegistryHostileTests {
    /// A sandbox with one cloudlet installed, so "unchanged" is not trivially empty.
    func sandboxWithOneCloudlet() async throws -> (RegistrySandbox, [String]) {
        let sandbox = try RegistrySandbox()
        let repo = try await sandbox.cloudletRepository("ops/bastion")
        _ = try await sandbox.service().install(CloudletInstallParams(source: repo.path))
        return (sandbox, sandbox.listing(sandbox.cloudlets))
    }

    @Test(arguments: [
        ("ext::sh -c touch% /tmp/nepho-pwned", "white space"),
        ("ext::sh", "'ext::' transport"),
        ("fd::7", "'fd::' transport"),
        ("ssh://-oProxyCommand=touch%20/tmp/nepho-pwned/x", "percent-escapes"),
        ("ssh://-oProxyCommand=x/repo", "starts with '-'"),
        ("--upload-pack=touch", "starts with '-'"),
        ("-oProxyCommand=x:repo", "starts with '-'"),
        ("http://example.com/repo.git", "'http' scheme"),
        ("git://example.com/repo.git", "'git' scheme"),
        ("host:-repo", "path starts with '-'"),
    ])
    func refusedGitSourcesChangeNothing(source: String, reason: String) async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        await #expect {
            _ = try await sandbox.service().install(CloudletInstallParams(source: source))
        } throws: { error in
            let text = "\(error)"
            return text.contains("refusing git source") && text.contains(reason)
        }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/nepho-pwned"))
    }

    @Test(arguments: ["../../etc/evil", "huit/../../x", "owner/.hidden", "a/b/c"])
    func namesThatCouldEscapeAreRefused(name: String) async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        try sandbox.configure(registries: [sandbox.served.appendingPathComponent("index.json").path])
        try sandbox.serve([])
        await #expect {
            _ = try await sandbox.service().install(CloudletInstallParams(source: name))
        } throws: { "\($0)".contains("neither a registry name") }
        await #expect {
            _ = try await sandbox.service().install(
                CloudletInstallParams(source: "/nonexistent", folderName: "../escape"))
        } throws: { "\($0)".contains("--name ../escape") }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
    }

    @Test func anIndexWithAnExtSourceIsRefusedAndTheCacheKept() async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        try sandbox.serve([
            RegistryEntry(
                name: "huit/mediawiki", summary: "good", version: "v1", versions: ["v1"],
                source: "https://git.example.com/huit/mediawiki.git")
        ])
        let server = try await TestHTTPServer.start(root: sandbox.served)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/index.json"
        try sandbox.configure(registries: [url], maxAge: 0)
        _ = try await sandbox.service().search(RegistrySearchParams(query: ""))
        let cached = sandbox.cacheSnapshot().filter { !$0.key.hasSuffix("meta.json") }
        let hostile =
            #"{"format_version": 1, "cloudlets": [{"name": "evil/pwn", "summary": "x", "version": "v1", "versions": ["v1"], "source": "ext::sh -c touch% /tmp/nepho-pwned"}]}"#
        try sandbox.serveRaw(Data(hostile.utf8))
        let update = try await sandbox.service().manage(RegistryManageParams(action: .update))
        #expect(update.registries.first?.status == "failed")
        #expect(update.registries.first?.warning?.contains("cloudlets[0] 'evil/pwn': field 'source'") == true)
        #expect(sandbox.cacheSnapshot().filter { !$0.key.hasSuffix("meta.json") } == cached)
        // Search still answers from the good cache, and says why.
        let result = try await sandbox.service().search(RegistrySearchParams(query: ""))
        #expect(result.hits.map(\.name) == ["huit/mediawiki"])
        #expect(result.warnings.first?.contains("unusable index") == true)
        await #expect {
            _ = try await sandbox.service().install(CloudletInstallParams(source: "evil/pwn"))
        } throws: { "\($0)".contains("no cloudlet named evil/pwn") }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/nepho-pwned"))
    }

    @Test(arguments: ["truncated-file", "cut-connection", "oversized"])
    func aBadDownloadIsRefusedWithoutDamagingTheCache(kind: String) async throws {
        let sandbox = try RegistrySandbox()
        defer { sandbox.remove() }
        try sandbox.serve([
            RegistryEntry(
                name: "huit/mediawiki", summary: "good", version: "v1", versions: ["v1"],
                source: "https://git.example.com/huit/mediawiki.git")
        ])
        var server = try await TestHTTPServer.start(root: sandbox.served)
        let url = "http://127.0.0.1:\(server.port)/index.json"
        try sandbox.configure(registries: [url], maxAge: 0)
        _ = try await sandbox.service().search(RegistrySearchParams(query: ""))
        let cached = sandbox.cacheSnapshot().filter { !$0.key.hasSuffix("meta.json") }
        #expect(cached.count == 2)

        // A new, bigger index that arrives broken.
        var entries: [RegistryEntry] = []
        for n in 0..<200 {
            entries.append(
                RegistryEntry(
                    name: "acme/c\(n)", summary: "cloudlet \(n)", version: "v1", versions: ["v1"],
                    source: "https://git.example.com/acme/c\(n).git"))
        }
        try sandbox.serve(entries)
        let whole = try Data(contentsOf: sandbox.served.appendingPathComponent("index.json"))
        let expected: String
        switch kind {
        case "truncated-file":
            try sandbox.serveRaw(whole.prefix(whole.count / 2))
            expected = "not valid JSON"
        case "cut-connection":
            server.stop()
            server = try await TestHTTPServer.start(root: sandbox.served, cut: true)
            try sandbox.configure(registries: ["http://127.0.0.1:\(server.port)/index.json"], maxAge: 0)
            expected = "could not be updated"
        default:
            let big = sandbox.served.appendingPathComponent("index.json")
            _ = FileManager.default.createFile(atPath: big.path, contents: nil)
            let handle = try FileHandle(forWritingTo: big)
            try handle.truncate(atOffset: 100 * 1024 * 1024)
            try handle.close()
            expected = "larger than the limit"
        }
        defer { server.stop() }
        let update = try await sandbox.service().manage(RegistryManageParams(action: .update))
        #expect(update.registries.first?.status == "failed")
        if kind != "cut-connection" {
            #expect(update.registries.first?.warning?.contains(expected) == true, "\(update)")
        }
        if kind != "cut-connection" {
            #expect(sandbox.cacheSnapshot().filter { !$0.key.hasSuffix("meta.json") } == cached)
            let result = try await sandbox.service().search(RegistrySearchParams(query: ""))
            #expect(result.hits.map(\.name) == ["huit/mediawiki"])
            #expect(result.warnings.first?.contains("using the cached index from") == true)
        } else {
            // Another URL, so no cache: a clear error and no cache written.
            await #expect {
                _ = try await sandbox.service().search(RegistrySearchParams(query: ""))
            } throws: { "\($0)".contains("no registry could be read") }
        }
    }

    @Test func aHundredMegabyteLocalIndexIsRefused() async throws {
        let sandbox = try RegistrySandbox()
        defer { sandbox.remove() }
        let big = sandbox.served.appendingPathComponent("index.json")
        _ = FileManager.default.createFile(atPath: big.path, contents: nil)
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: 100 * 1024 * 1024)
        try handle.close()
        try sandbox.configure(registries: [big.path])
        await #expect {
            _ = try await sandbox.service().search(RegistrySearchParams(query: ""))
        } throws: { error in
            guard let error = error as? NephoError else { return false }
            return error.details.contains { $0.contains("104857600 bytes, more than the limit") }
        }
    }

    @Test func aRepositoryThatIsNotACloudletIsNotInstalled() async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        let plain = try await sandbox.plainRepository("not-a-cloudlet")
        await #expect {
            _ = try await sandbox.service().install(CloudletInstallParams(source: plain.path))
        } throws: { error in
            let text = "\(error)"
            return text.contains("not a valid cloudlet: not installed")
                && text.contains("missing cloudlet.yaml")
        }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
    }

    @Test func aRegistryEntryWhoseRepositoryNamesAnotherCloudletIsRefused() async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        let repo = try await sandbox.cloudletRepository("evil/other")
        try sandbox.serve([sandbox.entry("huit/mediawiki", repository: repo)])
        try sandbox.configure(registries: [sandbox.served.appendingPathComponent("index.json").path])
        await #expect {
            _ = try await sandbox.service().install(CloudletInstallParams(source: "huit/mediawiki"))
        } throws: { "\($0)".contains("cloudlet.yaml names evil/other: not installed") }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
    }

    /// The ssh transport is replaced by a test double (no sshd here):
    /// `Fixtures/registry/cut-ssh.py` runs git-upload-pack locally and cuts its answer
    /// after 64 KiB, as a dropped connection would. The clone fails half way through
    /// the pack ("early EOF"); nothing is left behind.
    @Test func aCloneInterruptedHalfWayLeavesNothingBehind() async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        let repo = try await sandbox.cloudletRepository("big/blob", versions: ["1.0.0"], extraFile: 2_000_000)
        let fakeSSH = TestHTTPServer.fixtures.appendingPathComponent("registry/cut-ssh.py")
        let service = sandbox.service(git: sandbox.safeGit(sshCommand: fakeSSH.path))
        await #expect {
            _ = try await service.install(CloudletInstallParams(source: "ssh://test-host\(repo.path)"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("cannot clone ssh://test-host\(repo.path)") && text.contains("git clone")
                && text.contains("early EOF")
        }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
    }

    @Test func aServerThatNeverAnswersIsStoppedAtTheTimeLimit() async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        let service = sandbox.service(git: sandbox.safeGit(timeLimit: 2, sshCommand: "sleep 60 #"))
        await #expect {
            _ = try await service.install(
                CloudletInstallParams(source: "git@example.invalid:huit/mediawiki.git"))
        } throws: { "\($0)".contains("time limit of 2 s") }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
    }

    /// A cloudlet that asks for submodules gets them only through the safe-git rules.
    @Test func hostileSubmoduleURLsAreRefused() async throws {
        let (sandbox, before) = try await sandboxWithOneCloudlet()
        defer { sandbox.remove() }
        let shared = sandbox.repos.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
        try await sandbox.git(["init", "--quiet"], in: shared)
        try "{}\n".write(to: shared.appendingPathComponent("common.json"), atomically: true, encoding: .utf8)
        try await sandbox.git(["add", "-A"], in: shared)
        try await sandbox.git(["commit", "--quiet", "-m", "shared"], in: shared)

        // A local cloudlet whose .gitmodules points at ext::.
        let evil = try await sandbox.cloudletRepository("evil/sub", submodule: shared, wantsSubmodules: true)
        try await sandbox.git(
            [
                "config", "-f", ".gitmodules", "submodule.patterns/shared.url",
                "ext::sh -c touch% /tmp/nepho-pwned",
            ],
            in: evil)
        try await sandbox.git(["commit", "--quiet", "-am", "point the submodule elsewhere"], in: evil)
        try await sandbox.git(["tag", "v9.0.0"], in: evil)
        await #expect {
            _ = try await sandbox.service().install(CloudletInstallParams(source: evil.path))
        } throws: { "\($0)".contains("submodule patterns/shared: refusing git source") }

        // A remote cloudlet (over ssh, through a passing test double) whose submodule is a local path.
        let remote = try await sandbox.cloudletRepository(
            "acme/remote", submodule: shared, wantsSubmodules: true)
        let ssh = TestHTTPServer.fixtures.appendingPathComponent("registry/cut-ssh.py").path + " --limit 0"
        let service = sandbox.service(git: sandbox.safeGit(sshCommand: ssh))
        await #expect {
            _ = try await service.install(CloudletInstallParams(source: "ssh://test-host\(remote.path)"))
        } throws: { "\($0)".contains("which a remote cloudlet may not use") }
        #expect(sandbox.listing(sandbox.cloudlets) == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/nepho-pwned"))

        // The same remote cloudlet without submodules installs over ssh.
        let plain = try await sandbox.cloudletRepository("acme/plain")
        let installed = try await service.install(
            CloudletInstallParams(source: "ssh://test-host\(plain.path)"))
        #expect(installed.version == "1.1.0")
        #expect(installed.source == "ssh://test-host\(plain.path)")
    }
}
