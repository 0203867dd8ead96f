import Foundation
import NephoSupport
import Testing

@testable import NephoCore

/// A cloudlet from a registry may be hostile: links out of it, FIFOs and devices where
/// files belong, names that are not UTF-8. Each is refused with the path in the message,
/// and nothing blocks or reads outside the cloudlet (docs/security.md).
@Suite struct HostileCloudletTests {
    @Test func aPatternLinkedOutOfTheCloudletIsRefusedNamingTheLink() throws {
        let fixture = Fixture()
        let folder = fixture.write(Fixture.cloudlet(), under: "demo")
        let secret = fixture.write(["secret.txt": "AWS_SECRET_ACCESS_KEY=nope\n"], under: "outside")
            .appendingPathComponent("secret.txt")
        let pattern = folder.appendingPathComponent("patterns/aws/host.cf")
        try FileManager.default.removeItem(at: pattern)
        try FileManager.default.createSymbolicLink(atPath: pattern.path, withDestinationPath: secret.path)

        let problems = CloudletValidator().validate(folder)
        #expect(
            problems.contains {
                $0.file == pattern.path && $0.severity == .error
                    && $0.message.contains("outside the cloudlet")
            }, "\(problems)")
        let error = #expect(throws: CloudletError.self) { _ = try Cloudlet.open(folder) }
        #expect(error?.problems.contains { $0.file == pattern.path } == true, "create and install open it so")
    }

    @Test func aLinkInsideTheCloudletIsFine() throws {
        let fixture = Fixture()
        let folder = fixture.write(Fixture.cloudlet(), under: "demo")
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("patterns/aws/same.cf").path, withDestinationPath: "host.cf"
        )
        #expect(CloudletLinks.problems(in: folder).isEmpty)
        _ = try Cloudlet.open(folder)
    }

    @Test func aFIFOWhereAFileBelongsIsNamedAndNothingBlocks() throws {
        let fixture = Fixture()
        let folder = fixture.write(Fixture.cloudlet(), under: "demo")
        let scenario = folder.appendingPathComponent("scenarios/big.yaml")
        let provisioner = folder.appendingPathComponent("provisioners/bootstrap.sh")
        for file in [scenario, provisioner] {
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            #expect(mkfifo(file.path, 0o600) == 0)
        }
        let problems = CloudletValidator().validate(folder)
        #expect(
            problems.contains {
                $0.file == scenario.path
                    && $0.message.contains("is not a regular file (it is a FIFO (named pipe))")
            }, "\(problems)")
        #expect(
            problems.contains { $0.message.contains("provisioner \"bootstrap.sh\" is not a regular file") },
            "\(problems)")
    }

    @Test func aScenarioNameThatIsNotUTF8IsSaidToBeSo() throws {
        let fixture = Fixture()
        let folder = fixture.write(Fixture.cloudlet(), under: "demo")
        let prefix = Array(folder.appendingPathComponent("scenarios/bad-").path.utf8).map {
            CChar(bitPattern: $0)
        }
        let name =
            prefix + [CChar(bitPattern: 0xFF)] + Array(".yaml".utf8).map { CChar(bitPattern: $0) } + [0]
        let fd = open(name, O_WRONLY | O_CREAT, 0o600)
        #expect(fd >= 0)
        close(fd)
        let error = #expect(throws: CloudletError.self) { _ = try Cloudlet.open(folder) }
        #expect(
            error?.problems.contains { $0.message.contains("is not UTF-8") } == true,
            "\(String(describing: error))")
    }
}
