import Foundation
import NephoSupport
import Testing

/// The real `nepho` and the `nephod` it starts keep the home private and refuse links
/// planted where they write (docs/security.md).
@Suite struct HomePrivacyCommandTests {
    @Test func theHomeADaemonMakesIsPrivateAndAPlantedLogLinkIsRefused() async throws {
        let nepho = NephoBinary()
        try FileManager.default.removeItem(at: nepho.home)
        let listed = try await nepho.run(["formation:list", "-o", "json"])
        #expect(listed.status == 0, "\(listed.errorOutput)")
        defer { Task { _ = try? await nepho.run(["daemon:stop"]) } }
        var info = stat()
        #expect(stat(nepho.home.path, &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(
            stat(nepho.home.appendingPathComponent("state.db").path, &info) == 0
                && info.st_mode & 0o777 == 0o600)
        _ = try await nepho.run(["daemon:stop"])

        let victim = nepho.home.deletingLastPathComponent().appendingPathComponent("victim.txt")
        try Data("precious".utf8).write(to: victim)
        let log = nepho.home.appendingPathComponent("log/nephod.log")
        try? FileManager.default.removeItem(at: log)
        try FileManager.default.createSymbolicLink(atPath: log.path, withDestinationPath: victim.path)
        let refused = try await nepho.run(["cloudlet:list"])
        #expect(refused.status != 0)
        #expect(refused.errorOutput.contains("\(log.path) is a symbolic link"), "\(refused.errorOutput)")
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
    }

    @Test func aHomeOthersCanWriteIsRefusedByTheDaemonAndInTheForeground() async throws {
        let nepho = NephoBinary()
        chmod(nepho.home.path, 0o777)
        for arguments in [["cloudlet:list"], ["formation:list", "--foreground"]] {
            let refused = try await nepho.run(arguments)
            #expect(refused.status != 0, "\(arguments)")
            #expect(
                refused.errorOutput.contains("\(nepho.home.path) is writable by other users"),
                "\(arguments): \(refused.errorOutput)")
        }
        #expect(!FileManager.default.fileExists(atPath: nepho.home.appendingPathComponent("state.db").path))
    }
}
