import Foundation
import NephoStore
import NephoSupport
import Testing

/// nepho's home and state database are the user's alone, and nepho writes through no
/// link planted in its home (docs/security.md). Each test fails without the check it names.
@Suite struct PrivateHomeTests {
    func scratch() -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-home-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    func mode(_ path: String) -> Int {
        var info = stat()
        return lstat(path, &info) == 0 ? Int(info.st_mode & 0o777) : -1
    }

    @Test func aNewHomeAndItsDatabaseAreClosedToOtherUsers() throws {
        let home = scratch().appendingPathComponent("home")
        let store = try StateStore(path: home.appendingPathComponent("state.db").path)
        _ = try store.insertFormation(
            .init(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        #expect(mode(home.path) == 0o700)
        for file in ["state.db", "state.db-wal", "state.db-shm"] {
            #expect(mode(home.appendingPathComponent(file).path) == 0o600, "\(file)")
        }
    }

    @Test func aHomeAnOlderNephoLeftReadableIsClosed() throws {
        let home = scratch()
        chmod(home.path, 0o755)
        let database = home.appendingPathComponent("state.db").path
        FileManager.default.createFile(
            atPath: database, contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try StateStore(path: database)
        #expect(mode(home.path) == 0o700)
        #expect(mode(database) == 0o600)
    }

    @Test func aHomeOthersCanWriteIsRefusedWithTheFix() throws {
        let home = scratch()
        chmod(home.path, 0o777)
        let error = #expect(throws: UnsafeHomeError.self) {
            _ = try StateStore(path: home.appendingPathComponent("state.db").path)
        }
        #expect(error?.description.contains("\(home.path) is writable by other users") == true)
        #expect(error?.description.contains("chmod 700 \(home.path)") == true)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("state.db").path))
    }

    @Test func aHomeOfAnotherUserIsRefused() throws {
        guard getuid() == 0 else {
            print("skipped: giving a folder to another user needs root (CI runs as root)")
            return
        }
        let home = scratch()
        chmod(home.path, 0o700)
        #expect(chown(home.path, 65534, 65534) == 0)
        let error = #expect(throws: UnsafeHomeError.self) {
            _ = try StateStore(path: home.appendingPathComponent("state.db").path)
        }
        #expect(error?.description.contains("belongs to uid 65534") == true, "\(String(describing: error))")
    }

    @Test func aLinkPlantedForTheDatabaseIsNotFollowed() throws {
        let home = scratch()
        let victim = scratch().appendingPathComponent("victim.txt")
        try Data("precious".utf8).write(to: victim)
        try FileManager.default.createSymbolicLink(
            atPath: home.appendingPathComponent("state.db").path, withDestinationPath: victim.path)
        let error = #expect(throws: UnsafeHomeError.self) {
            _ = try StateStore(path: home.appendingPathComponent("state.db").path)
        }
        #expect(error?.description.contains("is a symbolic link") == true)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
    }

    @Test func aLinkPlantedForALogIsNotFollowed() throws {
        let folder = scratch()
        let victim = folder.appendingPathComponent("victim.txt")
        try Data("precious".utf8).write(to: victim)
        let log = folder.appendingPathComponent("nephod.log").path
        try FileManager.default.createSymbolicLink(atPath: log, withDestinationPath: victim.path)
        #expect(throws: ProcessError.self) {
            _ = try DetachedProcess.spawn(
                path: "/bin/echo", arguments: ["appended"], environment: [:], logFile: log)
        }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
    }
}
