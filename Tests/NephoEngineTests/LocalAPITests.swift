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
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nepho-home-\(UUID().uuidString)")
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
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: url)
    }

    func read(_ path: String) -> String? { try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
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
            return nepho.code == .invalidInput && nepho.message.hasPrefix(home.paths.userParameters.path + ":3:1:")
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
            (error as! NephoError).message == "\(home.paths.config.path):1:16: \"cloudlet_dirs\" must be a list of folders"
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
        let removed = try await home.api.cloudletDirs(CloudletDirsParams(action: .remove, path: "/srv/cloudlets"))
        #expect(removed.directories.count == 1)
    }

    @Test func unknownCloudletsAndScenariosAreNotFound() async throws {
        let home = Home()
        await #expect {
            _ = try await home.api.scenarioDescribe(ScenarioDescribeParams(cloudlet: "demo", scenario: "nope"))
        } throws: { error in
            let nepho = error as! NephoError
            return nepho.code == .notFound && nepho.message == "cloudlet demo has no scenario \"nope\" (it has: default)"
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
