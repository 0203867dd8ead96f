import Foundation
import NephoCore
import NephoSupport
import Testing

@Suite struct CloudletValidatorTests {
    func problems(_ files: [String: String], replacing: [String: String] = [:]) -> (
        Fixture, [CloudletProblem]
    ) {
        let fixture = Fixture()
        var all = Fixture.cloudlet()
        for (path, text) in replacing { all[path] = text }
        let folder = fixture.write(all.merging(files) { $1 }, under: "demo")
        return (fixture, CloudletValidator().validate(folder))
    }

    @Test func aGoodCloudletHasNoProblems() {
        let (_, found) = problems([:])
        #expect(found.isEmpty, "\(found)")
    }

    @Test func theScaffoldIsValid() throws {
        let fixture = Fixture()
        let (folder, files) = try CloudletScaffold.create(name: "acme/shop", in: fixture.root)
        #expect(folder.lastPathComponent == "acme-shop")
        #expect(files.contains("patterns/aws/single-host.cf"))
        #expect(CloudletValidator().validate(folder).isEmpty)
        #expect(try Cloudlet.open(folder).name == "acme/shop")
    }

    @Test func scaffoldRefusesAnExistingFolderAndWritesNothing() throws {
        let fixture = Fixture()
        fixture.write(["demo/keep.txt": "mine"])
        #expect(throws: CloudletError.self) { try CloudletScaffold.create(name: "demo", in: fixture.root) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.url("demo").path) == ["keep.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path) == ["demo"])
    }

    @Test func malformedMetadataIsReportedWithItsPosition() {
        let (fixture, found) = problems(
            [:], replacing: ["cloudlet.yaml": "name: demo\nsummary: [oops\nversion: 1\n"])
        #expect(found.count == 1)
        #expect(found[0].file == fixture.url("demo/cloudlet.yaml").path)
        #expect(found[0].mark.line == 3)
        #expect(found[0].description.contains("cloudlet.yaml:3:"))
    }

    @Test func wrongTypesAndMissingNamesNameTheField() {
        let (_, found) = problems(
            [:], replacing: ["cloudlet.yaml": "summary: s\nkeywords: {a: b}\nversion: 1.0.0\n"])
        let messages = found.map(\.description)
        #expect(
            messages.contains { $0.hasSuffix("cloudlet.yaml:1:1: error: missing required field \"name\"") })
        #expect(
            found.contains {
                $0.message == "\"keywords\" must be a list, found a mapping"
                    && $0.mark == YAMLMark(line: 2, column: 11)
            })
    }

    @Test func typosInKeysAreWarningsWithAHint() {
        let (_, found) = problems(
            [:], replacing: ["cloudlet.yaml": "name: demo\nversion: 1.0.0\nsumary: typo\n"])
        #expect(found.count == 1)
        #expect(found[0].severity == .warning)
        #expect(found[0].message == "unknown key \"sumary\" in cloudlet.yaml (did you mean \"summary\"?)")
        #expect(found[0].mark == YAMLMark(line: 3, column: 1))
    }

    @Test func aMissingDefaultScenarioIsAnError() {
        let fixture = Fixture()
        var files = Fixture.cloudlet()
        files["scenarios/other.yaml"] = files.removeValue(forKey: "scenarios/default.yaml")
        let found = CloudletValidator().validate(fixture.write(files, under: "demo"))
        #expect(found.contains { $0.message.hasPrefix("missing scenarios/default.yaml") })
    }

    @Test func missingPatternAndProvisionerAreReportedAtTheirKeys() {
        let (_, found) = problems([
            "scenarios/big.yaml": "summary: s\npattern: aws/nope.cf\nprovisioner: setup.sh\n"
        ])
        #expect(
            found.contains {
                $0.message.hasPrefix("pattern \"aws/nope.cf\" not found")
                    && $0.mark == YAMLMark(line: 2, column: 10)
            })
        #expect(
            found.contains {
                $0.message.hasPrefix("provisioner \"setup.sh\" not found")
                    && $0.mark == YAMLMark(line: 3, column: 14)
            })
    }

    @Test func pathsMayNotLeaveTheCloudlet() {
        let (_, found) = problems(["scenarios/big.yaml": "pattern: ../../etc/passwd\n"])
        #expect(
            found.contains {
                $0.message == "pattern \"../../etc/passwd\" must not leave the cloudlet with \"..\""
            })
    }

    @Test func unknownScenarioParametersAreFlaggedWithASuggestion() {
        let (_, found) = problems([
            "scenarios/big.yaml": "pattern: aws/host.cf\nparameters:\n  KeyNme: ops\n  Size: large\n"
        ])
        #expect(
            found.contains {
                $0.message
                    == "unknown parameter KeyNme: pattern aws/host.cf declares no such parameter (did you mean KeyName?)"
                    && $0.mark == YAMLMark(line: 3, column: 3)
            })
    }

    @Test func templateParametersWithoutDefaultMustBeDeclared() {
        let (_, found) = problems(["scenarios/big.yaml": "pattern: aws/host.cf\nparameters:\n  Size: large\n"]
        )
        #expect(
            found.contains {
                $0.message.hasPrefix("missing parameter KeyName: pattern aws/host.cf requires it")
            })
    }

    @Test func aMalformedJSONTemplateIsReportedWithItsPosition() {
        let (fixture, found) = problems([
            "patterns/aws/host.cf":
                "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"AWS::S3::Bucket\"},,\n  }\n}\n"
        ])
        #expect(
            found.contains { $0.file == fixture.url("demo/patterns/aws/host.cf").path && $0.mark.line == 3 })
    }

    @Test func templateStructureIsChecked() {
        let (_, found) = problems([
            "patterns/aws/host.cf":
                "Resourcez: {}\nParameters:\n  KeyName: {Type: String}\n  Size: {Type: String}\n"
        ])
        #expect(found.contains { $0.message == "\"Resourcez\" is not a CloudFormation template section" })
        #expect(
            found.contains { $0.message == "a template needs a Resources section with at least one resource" }
        )
    }

    @Test func aDefaultOutsideTheAllowedValuesIsAnError() {
        let (_, found) = problems([
            "scenarios/big.yaml":
                "pattern: aws/host.cf\nparameters:\n  KeyName: k\n  Size:\n    default: huge\n    allowed: [small]\n"
        ])
        #expect(
            found.contains {
                $0.message == "default \"huge\" of Size is not one of the allowed values: small"
            })
    }

    @Test func outputsAndURLBelongToTheirProviders() throws {
        let (_, found) = problems([
            "scenarios/big.yaml":
                "pattern: aws/host.cf\nurl: http://x\noutputs: {url: AdminURL, ssh: X}\nparameters: {KeyName: k, Size: large}\n"
        ])
        #expect(
            found.contains {
                $0.message.hasPrefix("\"url\" applies to vagrant scenarios only") && $0.mark.line == 2
            })
        #expect(
            found.contains {
                $0.severity == .warning && $0.message.hasPrefix("unknown key \"ssh\" in outputs")
            })
        let fixture = Fixture()
        var files = Fixture.cloudlet()
        files["scenarios/big.yaml"] =
            "pattern: aws/host.cf\noutputs: {url: AdminURL}\nparameters: {KeyName: k, Size: large}\n"
        let cloudlet = try Cloudlet.open(fixture.write(files, under: "demo"))
        #expect(try cloudlet.scenario("big").outputs == ["url": "AdminURL"])
    }

    @Test func hostileNamesAreRefused() {
        #expect(CloudletName.problem("../evil") != nil)
        #expect(CloudletName.problem("a/b/c") != nil)
        #expect(CloudletName.problem("Upper") != nil)
        #expect(CloudletName.problem("-rf") != nil)
        #expect(CloudletName.problem("huit/mediawiki") == nil)
    }
}
