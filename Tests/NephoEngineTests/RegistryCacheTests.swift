import Foundation
import NephoCore
import NephoEngine
import NephoProtocol
import NephoSupport
import NephoTestBench
import Testing

/// The registry cache against a real HTTP server with ETag / Last-Modified.
@Suite(.serialized) struct RegistryCacheTests {
    func oneCloudletRegistry(maxAge: Int, etag: Bool = true) async throws -> (
        RegistrySandbox, TestHTTPServer, String
    ) {
        let sandbox = try RegistrySandbox()
        try sandbox.serve([
            RegistryEntry(
                name: "huit/mediawiki", summary: "generic mediawiki awesomeness", version: "v1",
                versions: ["v1"],
                source: "https://git.example.com/huit/mediawiki.git")
        ])
        let server = try await TestHTTPServer.start(root: sandbox.served, etag: etag)
        let url = "http://127.0.0.1:\(server.port)/index.json"
        try sandbox.configure(registries: [url], maxAge: maxAge)
        return (sandbox, server, url)
    }

    @Test func aYoungCacheIsUsedWithoutAsking() async throws {
        let (sandbox, server, _) = try await oneCloudletRegistry(maxAge: 3600)
        defer { server.stop(); sandbox.remove() }
        _ = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        _ = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        #expect(server.requests() == ["GET /index.json 200"])
    }

    @Test func anOldCacheIsRevalidatedWithA304() async throws {
        let (sandbox, server, _) = try await oneCloudletRegistry(maxAge: 0)
        defer { server.stop(); sandbox.remove() }
        _ = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        let before = sandbox.cacheSnapshot()["\(before0(sandbox))/index.json"]
        let result = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        #expect(result.hits.map(\.name) == ["huit/mediawiki"])
        #expect(server.requests() == ["GET /index.json 200", "GET /index.json 304"])
        #expect(sandbox.cacheSnapshot()["\(before0(sandbox))/index.json"] == before)
    }

    @Test func aServerWithoutETagsIsRevalidatedByDate() async throws {
        let (sandbox, server, url) = try await oneCloudletRegistry(maxAge: 0, etag: false)
        defer { server.stop(); sandbox.remove() }
        _ = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        let result = try await sandbox.service().manage(RegistryManageParams(action: .update, url: url))
        #expect(result.registries.first?.status == "revalidated")
        #expect(server.requests() == ["GET /index.json 200", "GET /index.json 304"])
    }

    /// The cache folder's name, for snapshot keys.
    func before0(_ sandbox: RegistrySandbox) -> String {
        sandbox.listing(sandbox.paths.cache.appendingPathComponent("registries")).first { !$0.contains("/") }
            ?? ""
    }

    @Test func aChangedIndexIsDownloadedAgain() async throws {
        let (sandbox, server, url) = try await oneCloudletRegistry(maxAge: 0)
        defer { server.stop(); sandbox.remove() }
        _ = try await sandbox.service().search(RegistrySearchParams(query: ""))
        try sandbox.serve([
            RegistryEntry(
                name: "acme/new", summary: "brand new", version: "v1", versions: ["v1"],
                source: "https://git.example.com/acme/new.git")
        ])
        let result = try await sandbox.service().manage(RegistryManageParams(action: .update, url: url))
        #expect(result.registries.first?.status == "downloaded")
        #expect(result.registries.first?.cloudlets == 1)
        let hits = try await sandbox.service().search(RegistrySearchParams(query: "")).hits
        #expect(hits.map(\.name) == ["acme/new"])
    }

    @Test func offlineTheCacheIsUsedWithAWarningNamingItsAge() async throws {
        let (sandbox, server, url) = try await oneCloudletRegistry(maxAge: 0)
        defer { sandbox.remove() }
        _ = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        server.stop()
        try await Task.sleep(nanoseconds: 300_000_000)
        let result = try await sandbox.service().search(RegistrySearchParams(query: "wiki"))
        #expect(result.hits.map(\.name) == ["huit/mediawiki"])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("registry \(url) could not be updated") == true)
        #expect(result.warnings.first?.contains("using the cached index from") == true)
        #expect(result.warnings.first?.contains(" second") == true, "one second, or several, under load")
        // A forced refresh says it failed, and still leaves the cache alone.
        let update = try await sandbox.service().manage(RegistryManageParams(action: .update))
        #expect(update.registries.first?.status == "failed")
        #expect(try await sandbox.service().search(RegistrySearchParams(query: "wiki")).hits.count == 1)
    }

    @Test func registriesAreAddedListedAndRemoved() async throws {
        let (sandbox, server, url) = try await oneCloudletRegistry(maxAge: 3600)
        defer { server.stop(); sandbox.remove() }
        let local = sandbox.served.appendingPathComponent("index.json").path
        let service = sandbox.service()
        var result = try await service.manage(RegistryManageParams(action: .add, url: local))
        #expect(result.registries.map(\.url) == [url, "file://\(local)"])
        #expect(result.registries.map(\.isDefault) == [true, false])
        await #expect {
            _ = try await service.manage(RegistryManageParams(action: .add, url: local))
        } throws: { "\($0)".contains("already a registry") }
        await #expect {
            _ = try await service.manage(
                RegistryManageParams(action: .add, url: "ftp://example.com/index.json"))
        } throws: { "\($0)".contains("'ftp' scheme is not allowed") }
        result = try await service.manage(RegistryManageParams(action: .remove, url: url))
        #expect(result.registries.map(\.url) == ["file://\(local)"])
        let config = try String(contentsOf: sandbox.paths.config, encoding: .utf8)
        #expect(config.contains("registries:") && !config.contains("127.0.0.1"))
    }

    @Test func aLocalRegistryIsReadAgainWhenItChanges() async throws {
        let sandbox = try RegistrySandbox()
        defer { sandbox.remove() }
        let index = sandbox.served.appendingPathComponent("index.json")
        try sandbox.serve([
            RegistryEntry(
                name: "acme/one", summary: "first", version: "v1", versions: ["v1"], source: "/srv/git/one")
        ])
        try sandbox.configure(registries: [index.path])
        #expect(
            try await sandbox.service().search(RegistrySearchParams(query: "")).hits.map(\.name) == [
                "acme/one"
            ])
        #expect(
            try await sandbox.service().search(RegistrySearchParams(query: "")).hits.map(\.name) == [
                "acme/one"
            ])
        try sandbox.serve([
            RegistryEntry(
                name: "acme/two", summary: "second, longer", version: "v1", versions: ["v1"],
                source: "/srv/git/two")
        ])
        #expect(
            try await sandbox.service().search(RegistrySearchParams(query: "")).hits.map(\.name) == [
                "acme/two"
            ])
        let detail = try await sandbox.service().describe("acme/two")
        #expect(detail?.summary == "second, longer")
        #expect(detail?.repository == "/srv/git/two")
    }
}
