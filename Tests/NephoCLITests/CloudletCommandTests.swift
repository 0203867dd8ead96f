import Foundation
import NephoSupport
import Testing

@Suite struct CloudletCommandTests {
    @Test func helpListsEveryCommandAndBothSpellingsWork() async throws {
        let nepho = NephoBinary()
        let help = try await nepho.run(["--help"])
        #expect(help.status == 0)
        for command in [
            "cloudlet:list", "cloudlet:describe", "cloudlet:create", "cloudlet:validate", "cloudlet:dirs",
            "scenario:list", "scenario:describe", "parameter:list", "parameter:set", "completion",
        ] {
            #expect(help.output.contains(command), "help lacks \(command)")
        }
        let colon = try await nepho.run(["cloudlet:describe", "--help"])
        let words = try await nepho.run(["cloudlet", "describe", "--help"])
        #expect(colon.status == 0 && colon.output == words.output)
        #expect(colon.output.contains("USAGE: nepho cloudlet:describe"))
    }

    @Test func listShowsATreeWithVersionsBrokenCloudletsAndDuplicates() async throws {
        let nepho = NephoBinary()
        nepho.installDemo("mediawiki", version: "0.7.2")
        nepho.write(["cloudlets/broken/cloudlet.yaml": "name: broken\nversion: [\n"])
        let extra = nepho.home.appendingPathComponent("extra")
        nepho.write([
            "extra/copy/cloudlet.yaml": "name: mediawiki\n",
            "extra/copy/scenarios/default.yaml": "summary: x\n",
        ])
        try await nepho.run(["cloudlet:dirs", "add", extra.path])
        let result = try await nepho.run(["cloudlet", "list"])
        let root = nepho.home.path
        #expect(result.status == 0)
        #expect(
            result.output == """
                \(root)/cloudlets
                ├── broken [broken: \(root)/cloudlets/broken/cloudlet.yaml:3:1: error: while parsing a flow node: did not find expected node content]
                └── mediawiki (v0.7.2)
                \(root)/extra
                └── mediawiki [duplicate, hidden]
                warning: duplicate cloudlet mediawiki: \(root)/extra/copy is hidden by \(root)/cloudlets/mediawiki

                """)
    }

    @Test func describeShowsTheRoadmapFields() async throws {
        let nepho = NephoBinary()
        nepho.installDemo()
        let result = try await nepho.run(["cloudlet:describe", "demo"])
        #expect(result.status == 0)
        #expect(
            result.output.hasPrefix(
                "Name: demo\nVersion: 1.2.0\nSummary: a demo cloudlet\nDescription: Demonstrates things.\n"))
        #expect(
            result.output.contains(
                "Project URL: https://example.com/demo\nRepository: https://example.com/demo.git\n"))
        #expect(
            result.output.contains(
                "Scenarios:\n  default        a single host\n  multi-tenant   elastic scaling"))
    }

    @Test func jsonAndYAMLOutputsCarryTheSameData() async throws {
        let nepho = NephoBinary()
        nepho.installDemo()
        let json = try await nepho.run(["cloudlet:describe", "demo", "-o", "json"])
        let object = try JSONSerialization.jsonObject(with: json.standardOutput) as! [String: Any]
        #expect(object["name"] as? String == "demo")
        #expect(object["projectPage"] as? String == "https://example.com/demo")
        #expect(
            (object["scenarios"] as? [[String: Any]])?.map { $0["name"] as? String } == [
                "default", "multi-tenant",
            ])
        let yaml = try await nepho.run(["cloudlet:describe", "demo", "--output", "yaml"])
        let node = try YAMLParser().parse(yaml.output)
        #expect(node["name"]?.scalar == "demo")
        #expect(node["version"]?.resolved == .string("1.2.0"))
        #expect(node["scenarios"]?.sequence?.count == 2)
    }

    @Test func errorsGoToStandardErrorWithAnExitStatus() async throws {
        let nepho = NephoBinary()
        let missing = try await nepho.run(["cloudlet:describe", "nothing"])
        #expect(missing.status == 3)
        #expect(missing.output.isEmpty)
        #expect(missing.errorOutput.hasPrefix("error: no installed cloudlet named \"nothing\""))
        let json = try await nepho.run(["cloudlet:describe", "nothing", "-o", "json"])
        let object = try JSONSerialization.jsonObject(with: json.standardError) as! [String: [String: Any]]
        #expect(object["error"]?["code"] as? Int == -32001)
        let badFlag = try await nepho.run(["cloudlet:list", "--outptu", "json"])
        #expect(badFlag.status == 64)
        #expect(badFlag.errorOutput.contains("Unknown option '--outptu'"))
        let badFormat = try await nepho.run(["cloudlet:list", "-o", "xml"])
        #expect(badFormat.status == 64)
        #expect(badFormat.errorOutput.contains("xml"))
    }

    @Test func createThenValidateInTheCurrentFolder() async throws {
        let nepho = NephoBinary()
        let work = nepho.home.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let created = try await nepho.run(["cloudlet:create", "shop", "--dir", "."], in: work)
        #expect(created.status == 0)
        #expect(created.output.contains("├── cloudlet.yaml"))
        let valid = try await nepho.run(["cloudlet:validate"], in: work.appendingPathComponent("shop"))
        #expect(valid.status == 0)
        #expect(valid.output == "shop is valid\n")
        let again = try await nepho.run(["cloudlet:create", "shop", "--dir", work.path])
        #expect(again.status == 5)
    }

    @Test func validateListsProblemsRelativeToTheCurrentFolderAndFails() async throws {
        let nepho = NephoBinary()
        nepho.installDemo()
        nepho.write([
            "cloudlets/demo/scenarios/broken.yaml": "pattern: aws/host.cf\nparameters:\n  KeyNam: x\n"
        ])
        let result = try await nepho.run(
            ["cloudlet:validate", "demo"], in: nepho.home.appendingPathComponent("cloudlets"))
        #expect(result.status == 1)
        #expect(
            result.output == """
                demo/scenarios/broken.yaml:3:3: error: unknown parameter KeyNam: pattern aws/host.cf declares no such parameter (did you mean KeyName?)
                demo/scenarios/broken.yaml:2:1: error: missing parameter KeyName: pattern aws/host.cf requires it (it has no Default); declare it under parameters
                demo: 2 errors, 0 warnings

                """)
    }
}

@Suite struct ScenarioAndParameterCommandTests {
    @Test func scenarioListAlignsNamesAndSummaries() async throws {
        let nepho = NephoBinary()
        nepho.installDemo("mediawiki")
        let result = try await nepho.run(["scenario:list", "mediawiki"])
        #expect(
            result.output == """
                default        a single host
                multi-tenant   elastic scaling multi-tenant load-balanced service

                """)
    }

    @Test func describeShowsMergedValuesWithTheirLayers() async throws {
        let nepho = NephoBinary()
        nepho.installDemo("mediawiki")
        #expect(try await nepho.run(["parameter:set", "Size", "large"]).status == 0)
        let result = try await nepho.run([
            "scenario:describe", "mediawiki/multi-tenant", "-p", "DBPassword=s3cret",
        ])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("Name: multi-tenant\nCloudlet: mediawiki\nSummary: elastic scaling"))
        #expect(result.output.contains("  KeyName: ops            # scenario\n"))
        #expect(result.output.contains("  Size: large             # user; one of small, large\n"))
        #expect(result.output.contains("  DBPassword: \"********\"  # command-line, secret\n"))
        #expect(!result.output.contains("s3cret") && !result.output.contains("hunter2"))
        #expect(
            result.output.hasSuffix(
                "Modify these options by editing the scenario file:\n\(nepho.home.path)/cloudlets/mediawiki/scenarios/multi-tenant.yaml\n"
            ))
        let missing = try await nepho.run(["scenario:describe", "mediawiki"])
        #expect(missing.output.contains("  KeyName:                # missing: required\n"))
    }

    @Test func describeRefusesUnknownAndDisallowedValues() async throws {
        let nepho = NephoBinary()
        nepho.installDemo()
        let unknown = try await nepho.run(["scenario:describe", "demo", "-p", "Sise=large"])
        #expect(unknown.status == 4)
        #expect(
            unknown.errorOutput
                == "error: unknown parameter Sise\n  this scenario takes: KeyName, Size, DBPassword\n")
        let bad = try await nepho.run(["scenario:describe", "demo", "-p", "Size=huge"])
        #expect(bad.status == 4)
        #expect(
            bad.errorOutput.contains(
                "Size: \"huge\" (from the command-line layer) is not one of: small, large"))
        let malformed = try await nepho.run(["scenario:describe", "demo", "-p", "novalue"])
        #expect(malformed.status == 64)
        #expect(malformed.errorOutput.contains("-p takes KEY=VALUE, got \"novalue\""))
    }

    @Test func parametersAreSetReadListedAndUnset() async throws {
        let nepho = NephoBinary()
        #expect(try await nepho.run(["parameter", "set", "KeyName", "ops"]).status == 0)
        #expect(try await nepho.run(["parameter:set", "Count", "3"]).status == 0)
        #expect(try await nepho.run(["parameter:get", "KeyName"]).output == "ops\n")
        #expect(try await nepho.run(["parameter:list"]).output == "KeyName   ops\nCount     3\n")
        #expect(try await nepho.run(["parameter:unset", "KeyName"]).status == 0)
        let gone = try await nepho.run(["parameter:get", "KeyName"])
        #expect(gone.status == 3)
        let params = try String(contentsOf: nepho.home.appendingPathComponent("params.yaml"), encoding: .utf8)
        #expect(params == "Count: \"3\"\n")
    }
}
