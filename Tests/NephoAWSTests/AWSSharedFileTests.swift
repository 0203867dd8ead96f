import Foundation
import NephoAWS
import Testing

/// Reading and rewriting the AWS shared files.
@Suite struct AWSSharedFileTests {
    @Test func readsSectionsCommentsAndNestedServices() throws {
        let file = try AWSSharedFile(
            parsing: """
                # comment
                ; another
                [default]
                region = eu-west-1 # trailing comment
                output=json

                [profile dev]
                services = local
                [services local]
                cloudformation =
                  endpoint_url = http://127.0.0.1:5000
                """, path: "config")
        #expect(file.configProfile("default")?["region"] == "eu-west-1")
        #expect(file.configProfile("default")?["output"] == "json")
        #expect(file.configProfile("dev")?["services"] == "local")
        #expect(file.services("local")["cloudformation"]?["endpoint_url"] == "http://127.0.0.1:5000")
        #expect(file.configProfile("missing") == nil)
    }

    @Test func malformedLinesAreNamed() {
        #expect(
            throws: AWSConfigurationError.malformedFile(
                path: "f", line: 1, reason: "a setting before any [section]")
        ) {
            try AWSSharedFile(parsing: "key = value\n", path: "f")
        }
        #expect(
            throws: AWSConfigurationError.malformedFile(
                path: "f", line: 2, reason: "a section header must end with ]")
        ) {
            try AWSSharedFile(parsing: "[ok]\n[broken\n", path: "f")
        }
    }

    @Test func writerReplacesInPlaceAndAppends() {
        let before = "# keep me\n[a]\nx = 1\n\n[b]\ny = 2\n"
        #expect(
            AWSSharedFileWriter.apply([("y", "3"), ("z", "4")], section: "b", to: before)
                == "# keep me\n[a]\nx = 1\n\n[b]\ny = 3\nz = 4\n")
        #expect(
            AWSSharedFileWriter.apply([("z", "4")], section: "a", to: before)
                == "# keep me\n[a]\nx = 1\nz = 4\n\n[b]\ny = 2\n")
        #expect(
            AWSSharedFileWriter.apply([("k", "v")], section: "new", to: before) == before + "\n[new]\nk = v\n"
        )
        #expect(AWSSharedFileWriter.apply([("k", "v")], section: "new", to: "") == "[new]\nk = v\n")
    }

    @Test func writtenFilesAreOwnerOnly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-aws-\(UUID().uuidString)/.aws")
        let path = folder.appendingPathComponent("credentials").path
        try AWSSharedFileWriter.set([("aws_access_key_id", "AKID")], section: "default", path: path)
        let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        let folderMode =
            try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(folderMode == 0o700)
        try FileManager.default.removeItem(at: folder.deletingLastPathComponent())
    }
}

/// Dates in CloudFormation answers.
@Suite struct AWSDateTests {
    @Test(arguments: [
        ("2015-08-30T12:36:00Z", 1_440_938_160.0),
        ("2015-08-30T12:36:00.250Z", 1_440_938_160.25),
        ("2015-08-30T12:36:00.123456+00:00", 1_440_938_160.123456),
        ("2015-08-30T14:36:00+02:00", 1_440_938_160.0),
    ])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(CloudFormationDecodingProbe.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_01)
    }

    @Test(arguments: [
        "", "2015-08-30", "2015-08-30T12:36:00", "2015-13-30T12:36:00Z", "2015-08-30T12:36:00Zjunk",
        "yesterday",
    ])
    func refuses(text: String) {
        #expect(CloudFormationDecodingProbe.parse(text) == nil)
    }

    @Test func signatureTimestamp() {
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 1_440_938_160.9)) == "20150830T123600Z")
    }
}
