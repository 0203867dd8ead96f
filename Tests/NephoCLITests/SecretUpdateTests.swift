import Foundation
import Testing

/// A NoEcho parameter's new value, given to `formation:update`, is stored and shown masked,
/// though moto (unlike CloudFormation) answers DescribeStacks with the value itself.
@Suite struct SecretUpdateTests {
    @Test func anUpdatedSecretIsNeitherStoredNorShown() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario(
            "secret",
            pattern: """
                AWSTemplateFormatVersion: '2010-09-09'
                Parameters:
                  Password:
                    Type: String
                    NoEcho: true
                  Label:
                    Type: String
                    Default: one
                Resources:
                  Topic:
                    Type: AWS::SNS::Topic
                    Properties:
                      DisplayName: !Sub "${Label}-${Password}"
                """)
        let name = FormationFixture.unique("secret")
        // Polled, not pushed: what is checked is what the monitor stores at the update's end,
        // and moto may leave the stack as it was (a change set it thinks changed nothing).
        fixture.nepho.environment["NEPHO_EVENTS"] = "poll"
        let first = "First-\(UUID().uuidString.prefix(8))"
        let create = try await fixture.nepho.run([
            "create", "bench-demo/secret", "--name", name, "-p", "Password=\(first)",
        ])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        let second = "Second-\(UUID().uuidString.prefix(8))"
        let update = try await fixture.nepho.run([
            "formation:update", name, "-p", "Password=\(second)", "-p", "Label=two", "--yes",
        ])
        #expect(
            update.output.contains("Password: ******** → ********"), "\(update.output)\(update.errorOutput)")
        #expect(update.status != 143, "the update's build ended")
        let describe = try await fixture.nepho.run(["formation:describe", name, "-o", "json"])
        #expect(!describe.output.contains(second) && !describe.output.contains(first), "\(describe.output)")
        #expect(describe.output.contains("********"))
        let database = try Data(contentsOf: fixture.nepho.home.appendingPathComponent("state.db"))
        let journal =
            (try? Data(contentsOf: fixture.nepho.home.appendingPathComponent("state.db-wal"))) ?? Data()
        #expect(database.range(of: Data(second.utf8)) == nil && journal.range(of: Data(second.utf8)) == nil)
    }
}
