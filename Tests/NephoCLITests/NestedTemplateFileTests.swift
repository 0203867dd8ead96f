import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

/// A nested stack whose `TemplateURL` is a file of the cloudlet (docs/cloudlets.md, "Nested
/// stacks"): nepho uploads it to its S3 bucket, its own nested files first, and sends the
/// parent with the S3 URL; a path that leaves `patterns/` is refused before anything is
/// uploaded. The real `nepho` and `nephod` against moto behind the test bench. A suite of
/// its own bench: it counts calls.
@Suite(.serialized)
struct NestedTemplateFileTests {
    static let benches = SharedCloudFormationBench()

    static let root = """
        AWSTemplateFormatVersion: '2010-09-09'
        # The nested template is a file beside this one.
        Parameters:
          Greeting:
            Type: String
            Default: hello
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Network:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: nested/network.yaml
              Parameters:
                Note: !Ref Greeting
        Outputs:
          TopicName:
            Value: !GetAtt Topic.TopicName
        """

    /// In `patterns/aws/nested/`, naming a file beside it.
    static let network = """
        AWSTemplateFormatVersion: '2010-09-09'
        Parameters:
          Note:
            Type: String
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Setting:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-note'
              Type: String
              Value: !Ref Note
          Inner:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: inner.yaml
        """

    /// With an IAM role: the root's call must acknowledge CAPABILITY_IAM for it.
    static let inner = """
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Leaf:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-leaf'
              Type: String
              Value: leaf
          Role:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Version: '2012-10-17'
                Statement:
                  - Effect: Allow
                    Principal: {Service: ec2.amazonaws.com}
                    Action: sts:AssumeRole
        """

    func setUp() async throws -> FormationFixture {
        let fixture = try await FormationFixture.make(on: Self.benches)
        try await fixture.bench.reset()
        fixture.nepho.write([
            "cloudlets/bench-demo/patterns/aws/nested/network.yaml": Self.network,
            "cloudlets/bench-demo/patterns/aws/nested/inner.yaml": Self.inner,
        ])
        fixture.addScenario("files", pattern: Self.root)
        return fixture
    }

    @Test func nestedTemplatesThatAreFilesOfTheCloudletAreUploadedAndBuilt() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("files")
        // The layout is a valid cloudlet: templates in a subfolder of patterns/aws are read.
        let valid = try await fixture.nepho.run(
            ["cloudlet:validate", "bench-demo"], in: fixture.nepho.home.appendingPathComponent("cloudlets"))
        #expect(valid.status == 0, "\(valid.output)\(valid.errorOutput)")
        let create = try await fixture.nepho.run(["create", "bench-demo/files", "--name", name])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        let created = try await fixture.bench.calls("CreateStack")
        #expect(created.last?.capabilities.contains("CAPABILITY_IAM") == true, "\(created)")
        #expect(try await fixture.stackStatus(name) == "CREATE_COMPLETE")

        // Both files went to S3 (inner first, then network naming inner's URL).
        let puts = try await fixture.bench.calls().map(\.action).filter {
            $0.hasPrefix("PUT /nepho-templates-") && $0.hasSuffix(".template")
        }
        #expect(puts.count == 2, "\(puts)")
        // The stacks CloudFormation made from them: the root's nested stack, and its own.
        let cloudFormation = try fixture.bench.session().cloudFormation()
        let stacks = try await cloudFormation.describeStacks().map(\.stackName)
        let network = try #require(stacks.first { $0.hasPrefix("\(name)-Network-") }, "\(stacks)")
        #expect(stacks.contains { $0.hasPrefix("\(network)-Inner-") }, "\(stacks)")
        let resources = try await cloudFormation.listStackResources(network).map(\.logicalResourceId)
        #expect(Set(resources) == ["Queue", "Setting", "Inner"], "\(resources)")

        // The template sent names S3, not the file; tags such as !Sub are kept.
        let s3 = try fixture.bench.session().s3()
        var uploaded: [String] = []
        for put in puts {
            let parts = put.dropFirst("PUT /".count).split(separator: "/", maxSplits: 1).map(String.init)
            uploaded.append(
                String(decoding: try await s3.getObject(bucket: parts[0], key: parts[1]), as: UTF8.self))
        }
        let parent = try #require(uploaded.first { $0.contains("Queue") }, "\(uploaded)")
        #expect(parent.contains("TemplateURL: http"), "\(parent)")
        #expect(!parent.contains("inner.yaml"), "\(parent)")
        #expect(parent.contains("!Sub"), "tags are kept: \(parent)")

        // An update plans and runs from the files again (nothing changed in them: same keys).
        let update = try await fixture.nepho.run(["formation:update", name, "-p", "Greeting=bye", "--yes"])
        #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
        #expect(try await fixture.stackStatus(name) == "UPDATE_COMPLETE")
    }

    /// A cloudlet cannot have nepho upload a file from elsewhere on the machine: a path
    /// that leaves `patterns/` is refused, naming the template's file and line, before any
    /// call; so is a file that is not there; a link out of the cloudlet makes the whole
    /// cloudlet unusable (as anywhere in a cloudlet).
    @Test func aNestedPathLeavingTheCloudletIsRefusedBeforeAnyCall() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let secret = fixture.nepho.home.appendingPathComponent("secret.yaml")
        try "Resources: {}\n# a private file\n".write(to: secret, atomically: true, encoding: .utf8)
        func addScenario(_ scenario: String, _ path: String) {
            fixture.addScenario(
                scenario,
                pattern: """
                    AWSTemplateFormatVersion: '2010-09-09'
                    Resources:
                      Network:
                        Type: AWS::CloudFormation::Stack
                        Properties:
                          TemplateURL: \(path)
                    """)
        }
        func create(_ scenario: String) async throws -> ProcessResult {
            try await fixture.bench.reset()
            let result = try await fixture.nepho.run([
                "create", "bench-demo/\(scenario)", "--name", FormationFixture.unique(scenario),
            ])
            let calls = try await fixture.bench.calls().map(\.action)
            #expect(calls.isEmpty, "no call at all: \(calls)")
            #expect(result.status != 0)
            return result
        }
        // A folder link inside the cloudlet, to a file outside patterns/: refused once resolved.
        let cloudlet = fixture.nepho.home.appendingPathComponent("cloudlets/bench-demo")
        fixture.nepho.write(["cloudlets/bench-demo/extra/x.yaml": "Resources: {}\n"])
        try FileManager.default.createSymbolicLink(
            atPath: cloudlet.appendingPathComponent("patterns/aws/extra").path,
            withDestinationPath: "../../extra")
        for (scenario, path, why) in [
            ("inside", "extra/x.yaml", "\"extra/x.yaml\" leaves the cloudlet's patterns/ folder"),
            (
                "dotdot", "../../../../secret.yaml",
                "\"../../../../secret.yaml\" leaves the cloudlet's patterns/ folder"
            ),
            ("missing", "nested/none.yaml", "\"nested/none.yaml\" not found"),
        ] {
            addScenario(scenario, path)
            let result = try await create(scenario)
            #expect(
                result.errorOutput.contains(
                    "patterns/aws/\(scenario).yaml:6: nested stack Network: TemplateURL \(why)"),
                "\(result.errorOutput)")
        }
        // Two files naming each other.
        addScenario("loop", "loop-b.yaml")
        fixture.nepho.write([
            "cloudlets/bench-demo/patterns/aws/loop-b.yaml": """
            AWSTemplateFormatVersion: '2010-09-09'
            Resources:
              Back:
                Type: AWS::CloudFormation::Stack
                Properties:
                  TemplateURL: loop.yaml
            """
        ])
        let loop = try await create("loop")
        #expect(
            loop.errorOutput.contains(
                "patterns/aws/loop-b.yaml:6: nested stack Back: TemplateURL \"loop.yaml\" is a template that names it in turn (a loop)"
            ), "\(loop.errorOutput)")
        // `cloudlet:validate` says the same, at the same places.
        let validate = try await fixture.nepho.run(
            ["cloudlet:validate", "bench-demo"], in: fixture.nepho.home.appendingPathComponent("cloudlets"))
        #expect(validate.status == 1)
        for line in [
            "bench-demo/patterns/aws/dotdot.yaml:6:20: error: nested stack Network: TemplateURL \"../../../../secret.yaml\" leaves the cloudlet's patterns/ folder",
            "bench-demo/patterns/aws/missing.yaml:6:20: error: nested stack Network: TemplateURL \"nested/none.yaml\" not found",
            "bench-demo/patterns/aws/inside.yaml:6:20: error: nested stack Network: TemplateURL \"extra/x.yaml\" leaves the cloudlet's patterns/ folder",
            "bench-demo/patterns/aws/loop.yaml:6:20: error: nested stack Network: TemplateURL \"loop-b.yaml\" is a template that names it in turn (a loop)",
        ] {
            #expect(validate.output.contains(line), "\(validate.output)")
        }

        let aws = fixture.nepho.home.appendingPathComponent("cloudlets/bench-demo/patterns/aws")
        try FileManager.default.createSymbolicLink(
            at: aws.appendingPathComponent("linked.yaml"), withDestinationURL: secret)
        addScenario("linked", "linked.yaml")
        let linked = try await create("linked")
        #expect(linked.errorOutput.contains("outside the cloudlet"), "\(linked.errorOutput)")
    }
}
