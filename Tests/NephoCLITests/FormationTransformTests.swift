import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

/// Formations whose pattern has a `Transform`, through the real `nepho` against the test
/// bench (issue 18), as far as moto 5.2.1 goes with transforms. moto runs no transform:
/// it builds a template as written, skipping the `AWS::Serverless::*` types it does not
/// emulate (so a SAM template's other resources are built, and its functions are not),
/// and fails on `Fn::ForEach` (HTTP 500). What is checked is nepho's side: the request
/// acknowledges CAPABILITY_AUTO_EXPAND, the update preview asks for nested stacks' changes
/// and shows what CloudFormation (here moto) plans. docs/cloudlets.md says what moto
/// could not check.
@Suite(.serialized)
struct FormationTransformTests {
    static let serverless = """
        AWSTemplateFormatVersion: '2010-09-09'
        Description: nepho bench-demo (SAM)
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Greeting:
            Type: String
            Default: hello
        Globals:
          Function:
            Timeout: 5
        Resources:
          Table:
            Type: AWS::Serverless::SimpleTable
          Topic:
            Type: AWS::SNS::Topic
          Setting:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-greeting'
              Type: String
              Value: !Ref Greeting
        Outputs:
          URL:
            Value: http://127.0.0.1/bench-demo

        """

    static let languageExtensions = """
        AWSTemplateFormatVersion: '2010-09-09'
        Description: nepho bench-demo (language extensions)
        Transform: AWS::LanguageExtensions
        Parameters:
          Names:
            Type: CommaDelimitedList
            Default: Alpha,Beta
        Resources:
          Fn::ForEach::Topics:
            - Name
            - !Ref Names
            - Topic${Name}:
                Type: AWS::SNS::Topic

        """

    @Test func aSAMTemplateIsCreatedWithAutoExpandAndUpdatedThroughAChangeSet() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario("sam", pattern: Self.serverless)
        let valid = try await fixture.nepho.run([
            "cloudlet:validate", fixture.nepho.home.appendingPathComponent("cloudlets/bench-demo").path,
        ])
        #expect(valid.status == 0, "\(valid.output)\(valid.errorOutput)")

        let name = FormationFixture.unique("sam")
        let create = try await fixture.nepho.run(["create", "bench-demo/sam", "--name", name])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        #expect(create.output.contains("\(name): create finished: CREATE_COMPLETE"), "\(create.output)")
        let creates = try await fixture.bench.calls("CreateStack").filter { $0.stackName == name }
        #expect(creates.count == 1, "\(creates)")
        // Created directly, so CloudFormation wants AUTO_EXPAND; SAM makes IAM roles.
        #expect(creates.first?.capabilities == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"], "\(creates)")

        // The cloudlet's next version adds a SAM table and a topic.
        fixture.addScenario(
            "sam",
            pattern: Self.serverless.replacingOccurrences(
                of: "Resources:\n",
                with:
                    "Resources:\n  Archive:\n    Type: AWS::Serverless::SimpleTable\n  Alerts:\n    Type: AWS::SNS::Topic\n"
            ))
        let update = try await fixture.nepho.run(["formation:update", name, "-p", "Greeting=bye", "--yes"])
        #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
        #expect(update.output.contains("Changes to \(name):"), "\(update.output)")
        // What moto plans is the template as written: CloudFormation would plan SAM's
        // expansion (Archive as an AWS::DynamoDB::Table), and nested stacks' changes.
        #expect(
            update.output.contains("  Add     Archive AWS::Serverless::SimpleTable\n"), "\(update.output)")
        #expect(update.output.contains("  Add     Alerts AWS::SNS::Topic\n"), "\(update.output)")
        let changeSets = try await fixture.bench.calls("CreateChangeSet").filter { $0.stackName == name }
        #expect(changeSets.count == 1, "\(changeSets)")
        #expect(changeSets.first?.includeNestedStacks == true)
        #expect(changeSets.first?.capabilities == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        #expect(try await fixture.stackStatus(name) == "UPDATE_COMPLETE")
        let stack = try await fixture.bench.session().cloudFormation().describeStacks(name).first
        #expect(stack?.parameters["Greeting"] == "bye")
        let describe = try await fixture.nepho.run(["formation:describe", name])
        #expect(describe.status == 0, "\(describe.output)\(describe.errorOutput)")
        // moto lists the resources it built; each AWS::Serverless resource it skipped is a
        // row without a logical id or type (docs/cloudlets.md).
        for row in [
            "Alerts    AWS::SNS::Topic", "Topic     AWS::SNS::Topic", "Setting   AWS::SSM::Parameter",
        ] {
            #expect(describe.output.contains(row), "\(describe.output)")
        }
    }

    @Test func aLanguageExtensionsTemplateAsksForAutoExpandThoughMotoCannotBuildIt() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario("loops", pattern: Self.languageExtensions)
        let valid = try await fixture.nepho.run([
            "cloudlet:validate", fixture.nepho.home.appendingPathComponent("cloudlets/bench-demo").path,
        ])
        #expect(valid.status == 0, "\(valid.output)\(valid.errorOutput)")

        let name = FormationFixture.unique("loops")
        let create = try await fixture.nepho.run(["create", "bench-demo/loops", "--name", name])
        let creates = try await fixture.bench.calls("CreateStack").filter { $0.stackName == name }
        #expect(creates.first?.capabilities == ["CAPABILITY_AUTO_EXPAND"], "\(creates)")
        // moto reads Fn::ForEach::Topics as a resource and fails with HTTP 500, after it
        // has recorded the stack; nepho's retry of the same request then meets that stack
        // (AlreadyExistsException). CloudFormation would expand the loop into TopicAlpha
        // and TopicBeta.
        #expect(creates.first?.status == 500, "\(creates)")
        #expect(create.status != 0, "\(create.output)\(create.errorOutput)")
    }
}
