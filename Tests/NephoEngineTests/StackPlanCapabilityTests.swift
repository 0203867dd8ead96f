import Foundation
import NephoCore
import Testing

@testable import NephoEngine

/// The capabilities a CreateStack (or CreateChangeSet) request carries, read from the
/// parsed template: its resources (those inside `Fn::ForEach` loops too) and its
/// `Transform`, no longer a match on the template's text.
@Suite struct StackPlanCapabilityTests {
    func capabilities(_ text: String) throws -> [String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("t.cf")
        try Data(text.utf8).write(to: url)
        var problems: [CloudletProblem] = []
        let parsed = try #require(CloudFormationTemplate.read(url, problems: &problems))
        #expect(!problems.contains { $0.severity == .error }, "\(problems)")
        return StackPlan.capabilities(text: text, parsed: parsed)
    }

    @Test func aPlainTemplateNeedsNone() throws {
        #expect(try capabilities("Resources:\n  Topic: {Type: AWS::SNS::Topic}\n") == [])
    }

    @Test func theWordTransformInTheTextIsNotATransform() throws {
        // A key "Transform" in a resource's Metadata: the old text match asked for
        // CAPABILITY_AUTO_EXPAND here.
        let text = """
            {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Metadata": {"Transform": "none"}}}}
            """
        #expect(try capabilities(text) == [])
    }

    @Test func languageExtensionsExpandAndTheirLoopsAreRead() throws {
        let text = """
            Transform: AWS::LanguageExtensions
            Resources:
              Fn::ForEach::Roles:
                - Name
                - [Reader, Writer]
                - ${Name}Role:
                    Type: AWS::IAM::Role
                    Properties:
                      AssumeRolePolicyDocument: {}
            """
        #expect(try capabilities(text) == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    }

    @Test func samMakesRolesAndExpands() throws {
        let text = """
            Transform: [AWS::Serverless-2016-10-31]
            Resources:
              Table: {Type: AWS::Serverless::SimpleTable}
            """
        #expect(try capabilities(text) == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    }

    @Test func aMacroMayMakeAnythingSoAllThree() throws {
        let text = """
            Transform: {Name: Acme::Expand}
            Resources:
              Topic: {Type: AWS::SNS::Topic}
            """
        #expect(
            try capabilities(text) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    }

    @Test func anIncludedSnippetExpands() throws {
        let text = """
            Resources:
              Topic:
                Type: AWS::SNS::Topic
                Properties:
                  Fn::Transform:
                    Name: AWS::Include
                    Parameters: {Location: s3://bucket/topic.yaml}
            """
        #expect(try capabilities(text) == ["CAPABILITY_AUTO_EXPAND"])
    }

    @Test func namedIAMAndNestedStacksAsBefore() throws {
        let text = """
            Resources:
              Role:
                Type: AWS::IAM::Role
                Properties: {RoleName: fixed, AssumeRolePolicyDocument: {}}
              Child:
                Type: AWS::CloudFormation::Stack
                Properties: {TemplateURL: https://example.com/child.yaml}
            """
        #expect(
            try capabilities(text) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    }
}
