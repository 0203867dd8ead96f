import Foundation
import NephoEngine
import NephoProtocol
import NephoSupport
import Testing

/// Careless or hostile input that once cost users data or confusion (docs/security.md).
@Suite struct HardeningTests {
    /// A `params.yaml` nepho could not read back would make every later command fail.
    @Test func aParameterFileOverTheReadLimitIsNotWritten() async throws {
        let home = Home()
        _ = try await home.api.call(API.parameterSet, UserParameter(key: "KeyName", value: "mine"))
        let before = try String(contentsOf: home.paths.userParameters, encoding: .utf8)
        let huge = String(repeating: "x", count: 5 << 20)
        let error = await #expect(throws: NephoError.self) {
            try await home.api.call(API.parameterSet, UserParameter(key: "Huge", value: huge))
        }
        #expect(error?.message.contains("over the 4194304 bytes nepho reads: not written") == true)
        #expect(try String(contentsOf: home.paths.userParameters, encoding: .utf8) == before)
    }

    /// Over RPC a relative folder would be taken against the daemon's working folder.
    @Test func aRelativeCloudletDirectoryIsRefused() async throws {
        let home = Home()
        let error = await #expect(throws: NephoError.self) {
            try await home.api.call(
                API.cloudletCreate, CloudletCreateParams(name: "acme/shop", directory: "src"))
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("\"src\" must be an absolute path") == true)
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/src"))
    }

    /// A write killed half-way leaves a temporary file; it is private, and the next write
    /// of the same file sweeps it once it is old enough not to be another writer's.
    @Test func halfWrittenFilesArePrivateAndSweptLater() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("config.yaml")
        let stale = folder.appendingPathComponent(".config.yaml.\(UUID().uuidString).tmp")
        let young = folder.appendingPathComponent(".config.yaml.\(UUID().uuidString).tmp")
        for left in [stale, young] {
            FileManager.default.createFile(atPath: left.path, contents: Data("half".utf8))
        }
        var old = [
            timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0),
        ]
        #expect(utimes(stale.path, &old) == 0)
        try AtomicFile.write(Data("a: 1\n".utf8), to: file, mode: 0o644)
        #expect(!FileManager.default.fileExists(atPath: stale.path), "a stale half-written file is swept")
        #expect(FileManager.default.fileExists(atPath: young.path), "a young one may be another writer's")
        var info = stat()
        #expect(
            stat(file.path, &info) == 0 && info.st_mode & 0o777 == 0o644,
            "the file gets its mode once complete")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.filter { $0.hasSuffix(".tmp") }.count == 1)
    }
}

/// A secret kept in the user layer shows masked wherever nepho prints it.
@Suite struct UserLayerSecretTests {
    @Test func aSecretInTheUserLayerIsMaskedByListGetAndSet() async throws {
        let home = Home()  // its demo cloudlet's template declares DBPassword NoEcho
        let set = try await home.api.call(
            API.parameterSet, UserParameter(key: "DBPassword", value: "hunter3"))
        _ = try await home.api.call(API.parameterSet, UserParameter(key: "KeyName", value: "mine"))
        let listed = try await home.api.call(API.parameterList, NoParams())
        #expect(set.parameters.first { $0.key == "DBPassword" }?.value == "********")
        #expect(listed.parameters.first { $0.key == "DBPassword" }?.value == "********")
        #expect(listed.parameters.first { $0.key == "KeyName" }?.value == "mine", "others show as they are")
        #expect(
            try await home.api.call(API.parameterGet, ParameterKey(key: "DBPassword")).value == "********")
        #expect(
            try String(contentsOf: home.paths.userParameters, encoding: .utf8).contains("hunter3"),
            "the value itself is kept for builds")
    }
}
