import Foundation
import NephoStore
import Testing

/// The budget and listing that monitors (separate processes, each with its own
/// connection) share through one SQLite file.
@Suite struct SharedPollingTests {
    /// A database in a folder of its own (a store refuses a folder others can write, as /tmp).
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "nepho-poll-\(UUID().uuidString)/state.db"
    ).path

    @Test func theBudgetGrantsItsBurstThenAsksToWait() throws {
        let one = try StateStore(path: path)
        let two = try StateStore(path: path)
        var granted = 0
        for store in [one, two, one, two, one, two]
        where try store.takeRequestToken(scope: "s", rate: 0.001, burst: 4) == 0 {
            granted += 1
        }
        #expect(granted == 4)
        #expect(
            try one.takeRequestToken(scope: "other", rate: 0.001, burst: 4) == 0,
            "scopes have their own budget")
    }

    @Test func oneCallerAtATimeRefreshesTheListing() throws {
        let one = try StateStore(path: path)
        let two = try StateStore(path: path)
        #expect(try one.listedSignature(scope: "s", stackID: "a") == nil)
        #expect(try one.claimListing(scope: "s", age: 3600))
        #expect(try !two.claimListing(scope: "s", age: 3600))
        try one.storeListing(scope: "s", stacks: ["a": "CREATE_IN_PROGRESS|0"])
        #expect(try two.listedSignature(scope: "s", stackID: "a") == "CREATE_IN_PROGRESS|0")
        #expect(try two.listedSignature(scope: "s", stackID: "b") == "absent")
    }
}
