import Foundation
import NephoSupport
import NephoTestBench
import Testing

/// A nepho-tagged stack made on another machine (another nepho home on the same
/// account) is adopted on first use: describe, logs, watch and destroy work on it, by
/// name or by stack id.
@Suite(.serialized) struct TeamStackTests {
    /// A bench of its own: one test counts the calls `formation:list` makes.
    static let benches = SharedCloudFormationBench()

    /// `formation:list` finds the stacks made elsewhere by their tag (GetResources), then
    /// describes each one it does not hold: the account's other stacks cost no call. Where
    /// the tagging API is refused, it lists the account's stacks instead, and does not ask
    /// the tagging API again for an hour.
    @Test func stacksMadeElsewhereAreFoundByTagNotByListingTheAccount() async throws {
        let fixture = try await FormationFixture.make(on: Self.benches)
        let colleague = try await FormationFixture.make(on: Self.benches)
        defer {
            Task {
                await fixture.stop()
                await colleague.stop()
            }
        }
        let name = FormationFixture.unique("tagged")
        let create = try await colleague.nepho.run(["create", "bench-demo", "--name", name])
        #expect(create.status == 0, "\(create.errorOutput)")
        try await fixture.bench.reset()

        func listed() async throws -> [String: Any]? {
            let list = try await fixture.nepho.run(["formation:list", "-o", "json"])
            #expect(list.status == 0, "\(list.errorOutput)")
            return (fixture.json(list.output)["formations"] as? [[String: Any]])?.first {
                $0["name"] as? String == name
            }
        }
        #expect(try await listed()?["source"] as? String == "aws")
        let describes = try await fixture.bench.calls("DescribeStacks")
        #expect(try await fixture.bench.calls("GetResources").count == 1)
        #expect(describes.count == 1 && describes.allSatisfy { $0.stackName != nil }, "\(describes)")

        try await fixture.bench.reset()
        try await fixture.bench.inject(
            .error(
                status: 400, code: "AccessDeniedException",
                message: "not authorized to perform tag:GetResources"),
            into: "GetResources", times: -1)
        #expect(try await listed()?["source"] as? String == "aws")
        #expect(try await fixture.bench.calls("DescribeStacks").contains { $0.stackName == nil })
        // Refused once: the next listing does not ask the tagging API again.
        #expect(try await listed()?["source"] as? String == "aws")
        #expect(try await fixture.bench.calls("GetResources").count == 1)
        try await fixture.bench.reset()
    }

    @Test func aStackMadeElsewhereIsAdoptedOnFirstUse() async throws {
        let fixture = try await FormationFixture.make()
        let colleague = try await FormationFixture.make()
        defer {
            Task {
                await fixture.stop()
                await colleague.stop()
            }
        }
        let name = FormationFixture.unique("team")
        let create = try await colleague.nepho.run([
            "create", "bench-demo", "--name", name, "-p", "Greeting=hi",
        ])
        #expect(create.status == 0, "\(create.errorOutput)")
        let stackID = try #require(try await colleague.describe(name)["stackID"] as? String)

        let nepho = fixture.nepho
        let list = try await nepho.run(["formation:list", "-o", "json"])
        let listed = (fixture.json(list.output)["formations"] as? [[String: Any]])?.first {
            $0["name"] as? String == name
        }
        #expect(listed?["source"] as? String == "aws", "\(list.output)")

        let describe = try await fixture.describe(name)
        #expect(describe["status"] as? String == "CREATE_COMPLETE", "\(describe)")
        #expect(describe["cloudlet"] as? String == "bench-demo")
        #expect(describe["scenario"] as? String == "default")
        #expect(describe["stackID"] as? String == stackID)
        #expect((describe["parameters"] as? [String: String])?["Greeting"] == "hi")
        #expect((describe["timeline"] as? [[String: Any]])?.isEmpty == false)
        let byID = try await fixture.describe(stackID)
        #expect(byID["name"] as? String == name)

        let again = try await nepho.run(["formation:list", "-o", "json"])
        let row = (fixture.json(again.output)["formations"] as? [[String: Any]])?.filter {
            $0["name"] as? String == name
        }
        #expect(row?.count == 1 && row?.first?["source"] as? String == "nepho", "\(again.output)")

        let logs = try await nepho.run(["formation:logs", name])
        #expect(logs.status == 0 && logs.output.contains("CREATE_COMPLETE"), "\(logs.errorOutput)")
        let watch = try await nepho.run(["formation:watch", stackID])
        #expect(
            watch.status == 0 && watch.output.contains("\(stackID): create finished: CREATE_COMPLETE"),
            "\(watch.output)\(watch.errorOutput)")

        let destroy = try await nepho.run(["destroy", stackID, "--yes"])
        #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        #expect(try await fixture.stackStatus(stackID) == "DELETE_COMPLETE")

        let missing = try await nepho.run(["formation:describe", "no-such-formation"])
        #expect(missing.status == 3)
        #expect(missing.errorOutput.contains("no formation named no-such-formation"))
    }
}
