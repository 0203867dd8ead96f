import Foundation
import NephoCore
import NephoSupport
import Testing

@testable import NephoEngine

/// The ETA knows a nested stack's resources from the start when its template is a file of
/// the cloudlet, found as nepho uploads it: relative to the template naming it, under
/// `patterns/` only (docs/cloudlets.md, "Nested stacks").
@Suite struct NestedTemplateGraphTests {
    let patterns = FileManager.default.temporaryDirectory.appendingPathComponent(
        "nepho-graph-\(UUID().uuidString)/patterns")

    func write(_ files: [String: String]) throws {
        for (path, text) in files {
            let url = patterns.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    static func stack(_ url: String, plus: String = "") -> String {
        """
        Resources:
          \(plus.isEmpty ? "" : "\(plus):\n    Type: AWS::SNS::Topic\n  ")Child:
            Type: AWS::CloudFormation::Stack
            Properties: {TemplateURL: \(url)}
        """
    }

    @Test func nestedFilesAreReadRelativeToTheTemplateNamingThem() throws {
        defer { try? FileManager.default.removeItem(at: patterns.deletingLastPathComponent()) }
        try write([
            "aws/root.yaml": Self.stack("nested/network.yaml", plus: "Topic"),
            "aws/nested/network.yaml": Self.stack("inner.yaml", plus: "Queue"),
            "aws/nested/inner.yaml": "Resources:\n  Leaf:\n    Type: AWS::SSM::Parameter\n",
        ])
        let graph = BuildForecaster.graph(
            template: patterns.appendingPathComponent("aws/root.yaml"), patterns: patterns)
        // Topic, Child; Child/Queue, Child/Child; Child/Child/Leaf.
        #expect(graph.totalResources == 5, "\(graph)")
        #expect(graph["Child"]?.nested?["Child"]?.nested?["Leaf"] != nil)
    }

    @Test func aNestedPathOutOfPatternsIsNotRead() throws {
        defer { try? FileManager.default.removeItem(at: patterns.deletingLastPathComponent()) }
        try write([
            "aws/root.yaml": Self.stack("../../outside.yaml"),
            "../outside.yaml": "Resources:\n  Leaf:\n    Type: AWS::SSM::Parameter\n",
        ])
        let graph = BuildForecaster.graph(
            template: patterns.appendingPathComponent("aws/root.yaml"), patterns: patterns)
        #expect(graph.totalResources == 1 && graph["Child"]?.nested == nil, "\(graph)")
    }

    /// The chart's dependencies run into nested stacks: a nested stack waits for its own
    /// resources, and those that wait for nothing inside it wait for what it waits for.
    @Test func dependenciesRunThroughNestedStacks() throws {
        defer { try? FileManager.default.removeItem(at: patterns.deletingLastPathComponent()) }
        try write([
            "aws/root.yaml": """
            Resources:
              Topic:
                Type: AWS::SNS::Topic
              Network:
                Type: AWS::CloudFormation::Stack
                DependsOn: Topic
                Properties: {TemplateURL: network.yaml}
              Done:
                Type: AWS::SSM::Parameter
                DependsOn: Network
            """,
            "aws/network.yaml": """
            Resources:
              Queue:
                Type: AWS::SQS::Queue
              Setting:
                Type: AWS::SSM::Parameter
                Properties: {Value: !GetAtt Queue.Arn}
              Inner:
                Type: AWS::CloudFormation::Stack
                Properties: {TemplateURL: inner.yaml}
            """,
            "aws/inner.yaml": "Resources:\n  Leaf:\n    Type: AWS::SSM::Parameter\n",
        ])
        let graph = BuildForecaster.graph(
            template: patterns.appendingPathComponent("aws/root.yaml"), patterns: patterns)
        let waits = BuildForecaster.dependencies(of: graph)
        #expect(waits["Topic"] == [])
        #expect(waits["Network/Queue"] == ["Topic"])
        #expect(waits["Network/Setting"] == ["Network/Queue"])
        #expect(waits["Network/Inner/Leaf"] == ["Topic"])
        #expect(waits["Network/Inner"] == ["Topic", "Network/Inner/Leaf"])
        #expect(waits["Network"] == ["Topic", "Network/Queue", "Network/Setting", "Network/Inner"])
        #expect(waits["Done"] == ["Network"])
    }

    /// A cloudlet naming one file over and over at every level (60 times, 5 levels deep:
    /// 60⁵ paths) is read in bounded work: the ETA loads at most 200 nested templates, and
    /// create and `cloudlet:validate` refuse a tree of more than 200 references.
    @Test func aFileNamedOverAndOverCostsBoundedWork() throws {
        defer { try? FileManager.default.removeItem(at: patterns.deletingLastPathComponent()) }
        var files = ["aws/l5.yaml": "Resources:\n  Leaf:\n    Type: AWS::SSM::Parameter\n"]
        for level in 0..<5 {
            files["aws/l\(level).yaml"] =
                "Resources:\n"
                + (0..<60).map {
                    "  S\($0):\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: l\(level + 1).yaml}\n"
                }.joined()
        }
        try write(files)
        let root = patterns.appendingPathComponent("aws/l0.yaml")
        func loaded(_ graph: ResourceGraph) -> Int {
            graph.nodes.reduce(0) { $0 + ($1.nested.map { 1 + loaded($0) } ?? 0) }
        }
        #expect(loaded(BuildForecaster.graph(template: root, patterns: patterns)) <= 200)
        let problem = NestedTemplateFiles.firstProblem(
            of: root, document: try YAMLParser().parseFile(root), patterns: patterns)
        #expect(problem?.contains("a template leads to at most 200") == true, "\(problem ?? "none")")
    }
}
