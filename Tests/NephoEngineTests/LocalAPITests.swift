import Foundation
import NephoEngine
import NephoProtocol
import NephoSupport
import Testing

/// A NEPHO_HOME in a temporary folder, with the demo cloudlet installed.
final class Home {
    let root: URL
    let paths: NephoPaths
    let api: LocalAPI

    init() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-home-\(UUID().uuidString)")
        paths = NephoPaths(environment: ["NEPHO_HOME": root.path, "HOME": root.path])
        api = LocalAPI(paths: paths)
        let files: [String: String] = [
            "cloudlets/demo/cloudlet.yaml": "name: demo\nversion: 1.0.0\nsummary: a demo\n",
            "cloudlets/demo/scenarios/default.yaml":
                "summary: one host\npattern: aws/host.cf\nparameters:\n  KeyName:\n    description: key\n",
            "cloudlets/demo/patterns/aws/host.cf":
                "Parameters:\n  KeyName: {Type: String}\n  DBPassword: {Type: String, NoEcho: true, Default: hunter2}\nResources:\n  B: {Type: AWS::S3::Bucket}\n",
        ]
        for (path, text) in files { write(path, text) }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func write(_ path: String, _ text: String) {
        let url = root.appendingPathComponent(path)
        try! FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: url)
    }

    func read(_ path: String) -> String? {
        try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }
}

@Suite struct LocalAPITests {
    @Test func secretsAreMaskedInScenarioDescriptions() async throws {
        let home = Home()
        let detail = try await home.api.scenarioDescribe(
            ScenarioDescribeParams(cloudlet: "demo", scenario: nil, overrides: ["KeyName": "ops"]))
        let password = detail.parameters.first { $0.name == "DBPassword" }
        #expect(password?.value == "********")
        #expect(password?.defaultValue == "********")
        let encoded = String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
        #expect(!encoded.contains("hunter2"))
        #expect(detail.configuration["parameters"]?["KeyName"] == .string("ops"))
    }

    @Test func aMalformedParamsFileIsReportedAndLeftAsItWas() async throws {
        let home = Home()
        let original = "KeyName: ops\nbroken: [\n"
        home.write("params.yaml", original)
        await #expect {
            _ = try await home.api.parameterSet(UserParameter(key: "Size", value: "large"))
        } throws: { error in
            let nepho = error as! NephoError
            return nepho.code == .invalidInput
                && nepho.message.hasPrefix(home.paths.userParameters.path + ":3:1:")
        }
        #expect(home.read("params.yaml") == original)
    }

    @Test func aMalformedConfigIsReportedAndLeftAsItWas() async throws {
        let home = Home()
        let original = "cloudlet_dirs: /not/a/list\n"
        home.write("config.yaml", original)
        await #expect {
            _ = try await home.api.cloudletDirs(CloudletDirsParams(action: .add, path: "/srv/cloudlets"))
        } throws: { error in
            (error as! NephoError).message
                == "\(home.paths.config.path):1:16: \"cloudlet_dirs\" must be a list of folders"
        }
        #expect(home.read("config.yaml") == original)
    }

    @Test func cloudletDirectoriesAreAddedListedAndRemoved() async throws {
        let home = Home()
        let added = try await home.api.cloudletDirs(CloudletDirsParams(action: .add, path: "/srv/cloudlets"))
        #expect(added.directories.map(\.path) == [home.paths.cloudlets.path, "/srv/cloudlets"])
        #expect(added.directories[0].isDefault)
        await #expect(throws: NephoError.self) {
            _ = try await home.api.cloudletDirs(CloudletDirsParams(action: .add, path: "/srv/cloudlets"))
        }
        let removed = try await home.api.cloudletDirs(
            CloudletDirsParams(action: .remove, path: "/srv/cloudlets"))
        #expect(removed.directories.count == 1)
    }

    @Test func unknownCloudletsAndScenariosAreNotFound() async throws {
        let home = Home()
        await #expect {
            _ = try await home.api.scenarioDescribe(
                ScenarioDescribeParams(cloudlet: "demo", scenario: "nope"))
        } throws: { error in
            let nepho = error as! NephoError
            return nepho.code == .notFound
                && nepho.message == "cloudlet demo has no scenario \"nope\" (it has: default)"
        }
    }

    @Test func validationReportsProblemsForAFolder() async throws {
        let home = Home()
        home.write("cloudlets/demo/scenarios/extra.yaml", "pattern: aws/missing.cf\n")
        let report = try await home.api.cloudletValidate(
            CloudletValidateParams(path: home.paths.cloudlets.appendingPathComponent("demo").path))
        #expect(!report.valid)
        #expect(report.problems.map(\.line) == [1])
        #expect(report.problems[0].message.hasPrefix("pattern \"aws/missing.cf\" not found"))
    }
}

@Suite struct HostileUserFilesTests {
    static let hostile: [(String, String, Int)] = [
        ("duplicate keys", "KeyName: a\nKeyName: b\n", 2),
        (
            "billion laughs",
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                + (1...9).map {
                    "a\($0): &a\($0) ["
                        + Array(repeating: "*a\($0 == 1 ? "" : String($0 - 1))", count: 10).joined(
                            separator: ", ") + "]\n"
                }.joined(), 0
        ),
        ("deep nesting", String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n", 1),
        ("not a mapping", "- just\n- a list\n", 1),
    ]

    @Test(arguments: hostile)
    func aHostileParamsFileIsRefusedWithItsPositionAndKept(_ name: String, _ text: String, _ line: Int)
        async throws
    {
        let home = Home()
        home.write("params.yaml", text)
        await #expect {
            _ = try await home.api.parameterSet(UserParameter(key: "Size", value: "large"))
        } throws: { error in
            let message = (error as! NephoError).message
            return message.hasPrefix(home.paths.userParameters.path + ":")
                && (line == 0 || message.contains(":\(line):"))
        }
        #expect(home.read("params.yaml") == text, "\(name): the file must be left as it was")
    }
}

@Suite struct FullDiskTests {
    /// A 64 KiB tmpfs, mounted for the test (needs root, as in CI; skipped elsewhere with a reason).
    @Test func aFullDiskLeavesTheOldFileAndSaysWhy() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        let mount = try await ProcessRunner.run(
            "mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.path])
        guard mount.succeeded else {
            print(
                "skipped: cannot mount a small tmpfs here (\(mount.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)))"
            )
            return
        }
        do {
            try await fillAndCheck(mountPoint)
        } catch {
            Issue.record(error)
        }
        _ = try await ProcessRunner.run("umount", [mountPoint.path])
    }

    func fillAndCheck(_ mountPoint: URL) async throws {
        let paths = NephoPaths(environment: ["NEPHO_HOME": mountPoint.path])
        let api = LocalAPI(paths: paths)
        _ = try await api.parameterSet(UserParameter(key: "KeyName", value: "ops"))
        let before = try String(contentsOf: paths.userParameters, encoding: .utf8)
        await #expect {
            _ = try await api.parameterSet(
                UserParameter(key: "Blob", value: String(repeating: "x", count: 200_000)))
        } throws: { error in
            (error as! NephoError).message
                == "cannot write \(paths.userParameters.path): No space left on device"
        }
        #expect(try String(contentsOf: paths.userParameters, encoding: .utf8) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: mountPoint.path).filter {
            $0.hasSuffix(".tmp")
        }
        #expect(leftovers.isEmpty)
    }
}
