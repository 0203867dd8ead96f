import Foundation
import NephoSupport
import Testing

@testable import NephoCore

/// Templates with transforms (issue 18): the language extensions' `Fn::ForEach`, SAM's
/// `Globals` and `AWS::Serverless::*` types, a macro nepho does not know, and module
/// paths as `Type`. Each template is written for these tests; `cfnLintAgrees` runs
/// cfn-lint on every one of them, which must find errors exactly where nepho does.
@Suite struct TemplateTransformTests {
    /// The demo cloudlet (Fixture.cloudlet) with `template` as its pattern aws/host.cf.
    func problems(_ template: String) -> (Fixture, [CloudletProblem]) {
        let fixture = Fixture()
        var files = Fixture.cloudlet()
        files["patterns/aws/host.cf"] = template
        let folder = fixture.write(files, under: "demo")
        return (fixture, CloudletValidator().validate(folder))
    }

    func read(_ template: String) throws -> CloudFormationTemplate {
        let fixture = Fixture()
        let url = fixture.write(["host.cf": template]).appendingPathComponent("host.cf")
        var problems: [CloudletProblem] = []
        let parsed = try #require(CloudFormationTemplate.read(url, problems: &problems))
        #expect(!problems.contains { $0.severity == .error }, "\(problems)")
        return parsed
    }

    // MARK: AWS::LanguageExtensions

    @Test func forEachLoopsAreCheckedAndTheirResourcesRead() throws {
        let (_, found) = problems(Templates.languageExtensions)
        #expect(found.isEmpty, "\(found)")
        let parsed = try read(Templates.languageExtensions)
        #expect(parsed.transforms == [.languageExtensions])
        #expect(parsed.resources.map(\.id) == ["Topic${Name}", "Queue${Name}&{Kind}", "Bucket"])
        #expect(parsed.resources.map(\.type) == ["AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::S3::Bucket"])
        #expect(parsed.isProcessed)
    }

    @Test func aLoopsShapeIsCheckedWhereItIsWrong() {
        let cases: [(String, String, YAMLMark)] = [
            (
                Templates.loopKeyWithoutIdentifier,
                "resource Topic in Fn::ForEach::Topics must have ${Name} or &{Name} in its name, so that each pass of the loop makes a resource of its own",
                YAMLMark(line: 12, column: 7)
            ),
            (
                Templates.loopOfTwo,
                "Fn::ForEach::Topics must be a list of three: an identifier, a collection, and a mapping whose keys contain ${Identifier}; found a list of 2",
                YAMLMark(line: 10, column: 5)
            ),
            (
                Templates.loopWithTextCollection,
                "the collection of Fn::ForEach::Topics (its second item) must be a list, or a function that gives one (e.g. !Ref of a CommaDelimitedList parameter), found a string",
                YAMLMark(line: 11, column: 7)
            ),
            (
                Templates.loopWithListIdentifier,
                "the identifier of Fn::ForEach::Topics (its first item) must be a name, found a list",
                YAMLMark(line: 10, column: 7)
            ),
            (
                Templates.loopResourceWithoutType,
                "resource Topic${Name} has no Type",
                YAMLMark(line: 12, column: 7)
            ),
            (
                Templates.loopOutputWithoutValue,
                "output ${Name}Arn must be a mapping with a Value",
                YAMLMark(line: 15, column: 7)
            ),
        ]
        for (template, message, mark) in cases {
            let (fixture, found) = problems(template)
            let errors = found.filter { $0.severity == .error }
            #expect(errors.count == 1, "\(found)")
            #expect(errors.first?.message == message, "\(found)")
            #expect(errors.first?.mark == mark, "\(found)")
            #expect(errors.first?.file == fixture.url("demo/patterns/aws/host.cf").path)
        }
    }

    @Test func forEachNeedsTheLanguageExtensionsFirst() {
        let (_, found) = problems(Templates.loopWithoutTransform)
        #expect(
            found.map(\.description).contains {
                $0.hasSuffix(
                    "host.cf:8:3: error: Fn::ForEach::Topics needs Transform: AWS::LanguageExtensions, which expands Fn::ForEach"
                )
            }, "\(found)")
        let (_, late) = problems(Templates.transformsInTheWrongOrder)
        #expect(
            late.contains {
                $0.message.hasPrefix(
                    "Fn::ForEach::Tables reaches SAM unexpanded: list AWS::LanguageExtensions before")
                    && $0.mark == YAMLMark(line: 9, column: 3)
            }, "\(late)")
    }

    // MARK: AWS::Serverless-2016-10-31

    @Test func samGlobalsAndServerlessTypesAreAccepted() throws {
        let (_, found) = problems(Templates.serverless)
        #expect(found.isEmpty, "\(found)")
        let parsed = try read(Templates.serverless)
        #expect(parsed.transforms == [.serverless])
        #expect(parsed.resources.map(\.type).contains("AWS::Serverless::Function"))

        let (_, both) = problems(Templates.bothTransforms)
        #expect(both.isEmpty, "\(both)")
        #expect(try read(Templates.bothTransforms).transforms == [.languageExtensions, .serverless])
    }

    @Test func samTyposAreWarningsWithAHint() {
        let (_, found) = problems(
            Templates.serverless.replacingOccurrences(of: "  Function:\n", with: "  Functions:\n")
                .replacingOccurrences(
                    of: "AWS::Serverless::SimpleTable", with: "AWS::Serverless::SimpleTabel"))
        #expect(found.allSatisfy { $0.severity == .warning }, "\(found)")
        #expect(
            found.contains {
                $0.message
                    == "\"Functions\" is not a SAM Globals section nepho knows (did you mean \"Function\"?)"
                    && $0.mark == YAMLMark(line: 9, column: 3)
            }, "\(found)")
        #expect(
            found.contains {
                $0.message
                    == "resource Table: AWS::Serverless::SimpleTabel is not a SAM type nepho knows (did you mean AWS::Serverless::SimpleTable?)"
            }, "\(found)")
    }

    @Test func samWithoutItsTransformIsAnError() {
        let (_, found) = problems(Templates.serverlessWithoutTransform)
        #expect(
            found.contains {
                $0.message
                    == "\"Globals\" is not a CloudFormation template section: it is SAM's; add Transform: AWS::Serverless-2016-10-31"
                    && $0.mark == YAMLMark(line: 7, column: 1) && $0.severity == .error
            }, "\(found)")
        #expect(
            found.contains {
                $0.message
                    == "resource Table has Type AWS::Serverless::SimpleTable, which needs Transform: AWS::Serverless-2016-10-31 (SAM)"
                    && $0.mark == YAMLMark(line: 12, column: 11)
            }, "\(found)")
    }

    // MARK: a macro

    @Test func anUnknownTransformMakesTheTemplateChecksWarningsSaidOnce() throws {
        let (_, good) = problems(Templates.macro)
        #expect(good.count == 1, "\(good)")
        #expect(good.first?.severity == .warning)
        #expect(
            good.first?.message
                == "transform \"Acme::Expand\" is not one nepho knows (a macro?): CloudFormation runs it before anything else and it may rewrite the template, so nepho reports problems in its sections and resources as warnings"
        )
        #expect(good.first?.mark == YAMLMark(line: 2, column: 12))

        let (_, found) = problems(Templates.macroWithItsOwnSyntax)
        #expect(found.allSatisfy { $0.severity == .warning }, "\(found)")
        #expect(found.filter { $0.message.hasPrefix("transform ") }.count == 1, "\(found)")
        #expect(
            found.map(\.description).contains {
                $0.hasSuffix("host.cf:8:1: warning: \"Shapes\" is not a CloudFormation template section")
            }, "\(found)")
        #expect(
            found.map(\.description).contains {
                $0.hasSuffix("host.cf:11:3: warning: resource Fleet has no Type")
            },
            "\(found)")
        // What nepho itself reads stays an error: a parameter without a Type.
        let (_, parameters) = problems(
            Templates.macroWithItsOwnSyntax.replacingOccurrences(
                of: "  Size:\n    Type: String\n", with: "  Size: {}\n"))
        #expect(parameters.contains { $0.severity == .error && $0.message == "parameter Size has no Type" })
        #expect(try read(Templates.macro).transforms == [.other("Acme::Expand")])
    }

    @Test func anIncludedSnippetIsNotAResource() throws {
        let (_, found) = problems(Templates.includedSnippet)
        #expect(found.isEmpty, "\(found)")
        let parsed = try read(Templates.includedSnippet)
        #expect(parsed.transforms.isEmpty)
        #expect(parsed.callsTransform && parsed.isProcessed)
    }

    @Test func theTransformSectionIsChecked() {
        let (_, found) = problems(
            Templates.macro.replacingOccurrences(of: "Transform: Acme::Expand", with: "Transform: [[x]]"))
        #expect(
            found.contains {
                $0.severity == .error && $0.mark == YAMLMark(line: 2, column: 13)
                    && $0.message
                        == "Transform must be a transform name (e.g. AWS::Serverless-2016-10-31) or a list of them, found a list"
            }, "\(found)")
    }

    // MARK: modules

    @Test func aTypeThatIsAFileIsAModuleToPackageFirst() {
        let (_, found) = problems(Templates.modules)
        let errors = found.filter { $0.severity == .error }
        #expect(errors.count == 4, "\(found)")
        #expect(
            errors.contains {
                $0.mark == YAMLMark(line: 13, column: 11)
                    && $0.message
                        == "resource Network has Type \"../modules/vpc.yml\", a path to a file: a module, as rain writes them, that a packager inlines before CloudFormation sees the template (CloudFormation reads no local files). Package the template first (e.g. rain pkg host.cf -o packaged-host.cf) and make the packaged template the pattern"
            }, "\(found)")
        #expect(
            errors.contains {
                $0.mark == YAMLMark(line: 15, column: 11)
                    && $0.message.hasPrefix("resource Site has Type \"site.yaml\", a path to a file")
            })
        #expect(
            errors.contains {
                $0.mark == YAMLMark(line: 17, column: 11)
                    && $0.message
                        == "!Rain::Module \"./modules/site.yaml\" is one of rain's modules, which rain pkg inlines before CloudFormation sees the template (CloudFormation reads no local files): package the template first (e.g. rain pkg host.cf -o packaged-host.cf) and make the packaged template the pattern"
            }, "\(found)")
        #expect(
            errors.contains {
                $0.mark == YAMLMark(line: 11, column: 20)
                    && $0.message
                        == "!Rain::Embed is a directive of rain's, which CloudFormation does not know: package the template first (e.g. rain pkg host.cf -o packaged-host.cf) and make the packaged template the pattern"
            }, "\(found)")
        #expect(!found.contains { $0.message.contains("unknown Type") })
    }

    // MARK: cfn-lint

    /// cfn-lint finds errors in exactly the templates where nepho does, except a macro's:
    /// cfn-lint cannot run the macro either, and reports what nepho only warns about.
    @Test func cfnLintAgrees() async throws {
        try #require(
            ProcessRunner.resolve("cfn-lint") != nil, "cfn-lint is not installed: scripts/test installs it")
        let fixture = Fixture()
        let files = Templates.all.map { name, template in
            fixture.write(["\(name).yaml": template]).appendingPathComponent("\(name).yaml").path
        }
        // One run for all (cfn-lint takes seconds to start); parseable lines are
        // FILE:LINE:COLUMN:END_LINE:END_COLUMN:RULE:MESSAGE, rules E… being errors.
        let lint = try await ProcessRunner.run("cfn-lint", ["--format", "parseable", "--"] + files)
        #expect(lint.status & ~(2 | 4 | 8) == 0, "cfn-lint failed: \(lint.errorOutput)")
        for ((name, template), file) in zip(Templates.all, files) {
            let (_, found) = problems(template)
            let nephoErrors = found.contains { $0.severity == .error }
            let lintLines = lint.output.split(separator: "\n").filter { $0.hasPrefix(file + ":") }
            let lintErrors = lintLines.contains { $0.split(separator: ":")[5].hasPrefix("E") }
            if name == "macroWithItsOwnSyntax" {
                #expect(!nephoErrors && lintErrors, "\(name): nepho \(found) / cfn-lint \(lintLines)")
            } else {
                #expect(nephoErrors == lintErrors, "\(name): nepho \(found) / cfn-lint \(lintLines)")
            }
        }
    }
}

/// The templates of these tests. Each declares the demo scenarios' KeyName and Size.
enum Templates {
    static let parameters = """
        Parameters:
          KeyName:
            Type: String
          Size:
            Type: String
        """

    static let languageExtensions = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::LanguageExtensions
        Parameters:
          Names:
            Type: CommaDelimitedList
            Default: Alpha,Beta
          KeyName:
            Type: String
          Size:
            Type: String
        Conditions:
          Fn::ForEach::IsNamed:
            - Name
            - !Ref Names
            - Is${Name}: !Equals [!Ref Size, !Ref Name]
          SizeIsNamed: !Or [!Condition IsAlpha, !Condition IsBeta]
        Resources:
          Fn::ForEach::Topics:
            - Name
            - !Ref Names
            - Topic${Name}:
                Type: AWS::SNS::Topic
                Properties:
                  DisplayName: !Sub "${Name} topic"
              Fn::ForEach::Queues:
                - Kind
                - [Jobs, Dead-Letters]
                - Queue${Name}&{Kind}:
                    Type: AWS::SQS::Queue
          Bucket:
            Type: AWS::S3::Bucket
            Condition: SizeIsNamed
        Outputs:
          Fn::ForEach::TopicArns:
            - Name
            - !Ref Names
            - ${Name}TopicArn:
                Value: !Ref
                  Fn::Sub: Topic${Name}

        """

    /// A loop over `[a, b]` making `body` (indented for the loop's third item).
    static func loop(_ body: String, collection: String = "[A, B]", identifier: String = "Name") -> String {
        """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::LanguageExtensions
        \(parameters)
        Resources:
          Fn::ForEach::Topics:
            - \(identifier)
            - \(collection)
        \(body)
        """
    }

    static let loopKeyWithoutIdentifier = loop("    - Topic:\n        Type: AWS::SNS::Topic\n")
    static let loopOfTwo = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::LanguageExtensions
        \(parameters)
        Resources:
          Fn::ForEach::Topics:
            - Name
            - [A, B]

        """
    static let loopWithTextCollection = loop(
        "    - Topic${Name}:\n        Type: AWS::SNS::Topic\n", collection: "A,B")
    static let loopWithListIdentifier = loop(
        "    - Topic${Name}:\n        Type: AWS::SNS::Topic\n", identifier: "[Name]")
    static let loopResourceWithoutType = loop("    - Topic${Name}:\n        Properties: {}\n")
    static let loopOutputWithoutValue = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::LanguageExtensions
        \(parameters)
        Resources:
          Topic:
            Type: AWS::SNS::Topic
        Outputs:
          Fn::ForEach::Arns:
            - Name
            - [A, B]
            - ${Name}Arn:
                Description: no value
          Plain:
            Value: !Ref Topic

        """

    static let loopWithoutTransform = """
        AWSTemplateFormatVersion: "2010-09-09"
        \(parameters)
        Resources:
          Fn::ForEach::Topics:
            - Name
            - [A, B]
            - Topic${Name}:
                Type: AWS::SNS::Topic

        """

    static let transformsInTheWrongOrder = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]
        \(parameters)
        Resources:
          Fn::ForEach::Tables:
            - Name
            - [A, B]
            - Table${Name}:
                Type: AWS::Serverless::SimpleTable

        """

    static let serverless = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::Serverless-2016-10-31
        \(parameters)
        Globals:
          Function:
            Runtime: python3.12
            Timeout: 5
        Resources:
          Hello:
            Type: AWS::Serverless::Function
            Properties:
              Handler: index.handler
              InlineCode: |
                def handler(event, context):
                    return {"statusCode": 200, "body": "hello"}
          Table:
            Type: AWS::Serverless::SimpleTable
          Topic:
            Type: AWS::SNS::Topic

        """

    static let bothTransforms = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform:
          - AWS::LanguageExtensions
          - AWS::Serverless-2016-10-31
        \(parameters)
        Globals:
          Function:
            Runtime: python3.12
        Resources:
          Fn::ForEach::Functions:
            - Name
            - [Hello, Bye]
            - ${Name}Function:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: index.handler
                  Environment:
                    Variables:
                      WORD: !Ref Name
                  InlineCode: |
                    import os
                    def handler(event, context):
                        return os.environ["WORD"]

        """

    static let serverlessWithoutTransform = """
        AWSTemplateFormatVersion: "2010-09-09"
        \(parameters)
        Globals:
          Function:
            Timeout: 5
        Resources:
          Table:
            Type: AWS::Serverless::SimpleTable

        """

    static let macro = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: Acme::Expand
        \(parameters)
        Resources:
          Topic:
            Type: AWS::SNS::Topic

        """

    /// A macro's own section and a resource only the macro completes.
    static let macroWithItsOwnSyntax = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: [Acme::Expand]
        \(parameters)
        Shapes:
          Small: {Count: 1}
        Resources:
          Fleet:
            Properties:
              Shape: Small
          Topic:
            Type: AWS::SNS::Topic

        """

    static let includedSnippet = """
        AWSTemplateFormatVersion: "2010-09-09"
        \(parameters)
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Fn::Transform:
            Name: AWS::Include
            Parameters:
              Location: s3://bucket/snippet.yaml

        """

    static let modules = """
        AWSTemplateFormatVersion: "2010-09-09"
        \(parameters)
        Resources:
          Topic:
            Type: AWS::SNS::Topic
            Properties:
              DisplayName: !Rain::Embed name.txt
          Network:
            Type: ../modules/vpc.yml
          Site:
            Type: site.yaml
          Website:
            Type: !Rain::Module ./modules/site.yaml

        """

    static let all: [(String, String)] = [
        ("languageExtensions", languageExtensions), ("loopKeyWithoutIdentifier", loopKeyWithoutIdentifier),
        ("loopOfTwo", loopOfTwo), ("loopWithTextCollection", loopWithTextCollection),
        ("loopWithListIdentifier", loopWithListIdentifier),
        ("loopResourceWithoutType", loopResourceWithoutType),
        ("loopOutputWithoutValue", loopOutputWithoutValue), ("loopWithoutTransform", loopWithoutTransform),
        ("transformsInTheWrongOrder", transformsInTheWrongOrder), ("serverless", serverless),
        ("bothTransforms", bothTransforms), ("serverlessWithoutTransform", serverlessWithoutTransform),
        ("macro", macro), ("macroWithItsOwnSyntax", macroWithItsOwnSyntax),
        ("includedSnippet", includedSnippet),
        ("modules", modules),
    ]
}
