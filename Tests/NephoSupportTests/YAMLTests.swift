import Foundation
import NephoSupport
import Testing

@Suite struct YAMLParsingTests {
    let parser = YAMLParser()

    @Test func mappingsKeepOrderAndPositions() throws {
        let node = try parser.parse("name: mediawiki\nversion: 0.7.2\nkeywords:\n  - wiki\n  - php\n")
        #expect(node.mapping?.map { $0.key.scalar } == ["name", "version", "keywords"])
        #expect(node["version"]?.scalar == "0.7.2")
        #expect(node["keywords"]?.sequence?.count == 2)
        #expect(node["keywords"]?.sequence?[1].mark == YAMLMark(line: 5, column: 5))
    }

    @Test func scalarsResolveUnderTheCoreSchema() throws {
        let node = try parser.parse("a: true\nb: 42\nc: 4.5\nd: ~\ne: '42'\nf: yes\ng: 0x1F\n")
        #expect(node["a"]?.resolved == .bool(true))
        #expect(node["b"]?.resolved == .int(42))
        #expect(node["c"]?.resolved == .float(4.5))
        #expect(node["d"]?.isNull == true)
        #expect(node["e"]?.resolved == .string("42"))
        #expect(node["f"]?.resolved == .string("yes"))
        #expect(node["g"]?.resolved == .int(31))
    }

    @Test func cloudFormationShortFormTagsAreKept() throws {
        let text = """
            Resources:
              Bucket:
                Type: AWS::S3::Bucket
                Properties:
                  BucketName: !Sub '${AWS::StackName}-site'
                  Tags:
                    - Key: Name
                      Value: !Ref AWS::StackName
            Outputs:
              Arn:
                Value: !GetAtt [Bucket, Arn]
            """
        let node = try parser.parse(text)
        let name = node["Resources"]?["Bucket"]?["Properties"]?["BucketName"]
        #expect(name?.tag == "!Sub")
        #expect(name?.scalar == "${AWS::StackName}-site")
        #expect(node["Outputs"]?["Arn"]?["Value"]?.tag == "!GetAtt")
        let again = try parser.parse(try YAMLEmitter.emit(node))
        #expect(again == node)
        #expect(try YAMLEmitter.emit(node).contains("!Ref AWS::StackName"))
    }

    @Test func malformedInputNamesFileLineAndColumn() {
        #expect {
            _ = try parser.parse("name: ok\nsummary: [unclosed\nversion: 1\n", file: "cloudlet.yaml")
        } throws: { error in
            let yaml = error as! YAMLError
            return yaml.file == "cloudlet.yaml" && yaml.mark.line == 3
                && yaml.description.hasPrefix("cloudlet.yaml:3:")
        }
    }

    @Test func badIndentationIsReportedWhereItHappens() {
        #expect {
            _ = try parser.parse("a:\n  b: 1\n c: 2\n", file: "x.yaml")
        } throws: { error in
            let yaml = error as! YAMLError
            return yaml.mark.line == 3 && yaml.description.contains("x.yaml:3:")
        }
    }

    @Test func duplicateKeysAreAnErrorAtTheSecondKey() {
        #expect {
            _ = try parser.parse("name: a\nversion: 1\nname: b\n", file: "cloudlet.yaml")
        } throws: { error in
            let yaml = error as! YAMLError
            return yaml.mark == YAMLMark(line: 3, column: 1)
                && yaml.message == "duplicate key \"name\" (first defined at line 1)"
        }
    }

    @Test func documentsOverTheSizeLimitAreRefused() {
        var limits = YAMLParser.Limits()
        limits.maxBytes = 1024
        let big = String(repeating: "key: value\n", count: 200)
        #expect {
            _ = try YAMLParser(limits: limits).parse(big, file: "big.yaml")
        } throws: { error in
            (error as! YAMLError).description.contains(
                "big.yaml: document is 2200 bytes, over the limit of 1024")
        }
    }

    @Test func nestingPastTheDepthLimitIsRefused() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect {
            _ = try parser.parse(deep, file: "deep.yaml")
        } throws: { error in
            let yaml = error as! YAMLError
            return yaml.message == "nesting deeper than 128 levels"
                && yaml.mark == YAMLMark(line: 1, column: 129)
        }
    }

    @Test func billionLaughsIsStoppedByTheAliasLimit() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        #expect {
            _ = try parser.parse(text, file: "laughs.yaml")
        } throws: { error in
            let yaml = error as! YAMLError
            return yaml.message.contains("aliases expand to more than 10000 nodes") && yaml.mark.line > 1
        }
    }

    @Test func aModestAliasIsExpanded() throws {
        let node = try parser.parse("base: &b {size: t3.micro}\nweb: *b\n")
        #expect(node["web"]?["size"]?.scalar == "t3.micro")
    }

    @Test func aSecondDocumentIsAnError() {
        #expect(throws: YAMLError.self) { _ = try parser.parse("a: 1\n---\nb: 2\n") }
    }

    @Test func anEmptyDocumentIsNull() throws {
        #expect(try parser.parse("").isNull)
    }

    @Test func unreadableFilesAreAnErrorNamingThePath() {
        #expect {
            _ = try parser.parseFile(URL(fileURLWithPath: "/nonexistent/cloudlet.yaml"))
        } throws: { error in
            (error as! YAMLError).description.hasPrefix("/nonexistent/cloudlet.yaml: cannot read")
        }
    }
}

@Suite struct YAMLEmitterTests {
    @Test func jsonBecomesNaturalYAMLAndKeepsTypes() throws {
        let json =
            #"{"name":"mediawiki","version":"1.0","count":3,"on":true,"literal":"true","empty":"","lines":"a\nb","list":["x"],"none":null}"#
        let text = try YAMLEmitter.emit(try YAMLNode.fromJSON(Data(json.utf8)))
        #expect(text.hasPrefix("name: mediawiki\n"))
        #expect(text.contains("version: \"1.0\"") || text.contains("version: '1.0'"))
        #expect(text.contains("count: 3\n"))
        #expect(text.contains("\"on\": true\n"))
        let back = try YAMLParser().parse(text)
        #expect(back["literal"]?.resolved == .string("true"))
        #expect(back["empty"]?.resolved == .string(""))
        #expect(back["lines"]?.scalar == "a\nb")
        #expect(back["none"]?.isNull == true)
        #expect(back["list"]?.sequence?.first?.scalar == "x")
    }

    @Test func yaml11BooleanWordsStayQuoted() throws {
        let text = try YAMLEmitter.emit(try YAMLNode.fromJSON(Data(#"{"answer":"yes"}"#.utf8)))
        #expect(text == "answer: \"yes\"\n")
    }
}
