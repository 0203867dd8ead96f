import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

/// Formations end to end against the test bench, for what the stack itself gets: a
/// template too large to pass inline goes through nepho's S3 bucket; an update held in
/// progress by the bench is cancelled and rolls back.
///
/// moto 5.2.1 has no CancelUpdateStack at all, and applies every update (UpdateStack,
/// ExecuteChangeSet) at once, so no update is ever in progress in moto itself. The bench
/// scripts the stack's update over time, holds it at a resource, and answers
/// CancelUpdateStack itself with CloudFormation's rollback sequence (docs/testbench.md):
/// what is tested is nepho's side — the call it makes, the build it follows, the exit
/// status — against that emulation, not moto's.
@Suite(.serialized)
struct FormationStackTests {
    @Test func aTemplateOverTheInlineLimitGoesThroughS3() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let quick = try String(
            contentsOf: fixture.nepho.home.appendingPathComponent(
                "cloudlets/bench-demo/patterns/aws/quick.yaml"),
            encoding: .utf8)
        // The quick pattern with comments past CloudFormation's 51,200 inline bytes.
        let padding = (0..<1000).map {
            "# padding line \($0) to make the template larger than 51,200 bytes\n"
        }
        let large = quick + "\n" + padding.joined()
        #expect(large.utf8.count > CloudFormationClient.maxTemplateBodyBytes)
        fixture.addScenario("large", pattern: large)
        let name = FormationFixture.unique("large")
        let create = try await fixture.nepho.run(["create", "bench-demo/large", "--name", name])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        #expect(create.output.contains("\(name): create finished: CREATE_COMPLETE"))

        // The template is in nepho's bucket on the bench…
        let session = try fixture.bench.session()
        let bucket = TemplateUploader.bucketName(account: "123456789012", region: fixture.bench.region)
        let uploads = try await fixture.bench.calls().filter {
            $0.action.hasPrefix("PUT /\(bucket)/templates/") && $0.status == 200
        }
        var key: String?
        for upload in uploads {
            let candidate = String(upload.path.dropFirst("/\(bucket)/".count))
            let stored = try await session.s3().getObject(bucket: bucket, key: candidate)
            if String(decoding: stored, as: UTF8.self) == large { key = candidate }
        }
        let uploaded = try #require(key, "no upload of the template among \(uploads.map(\.path))")
        // …and the stack was created from it by URL, not inline.
        let url = try session.s3().url(bucket: bucket, key: uploaded).absoluteString
        let allCreates = try await fixture.bench.calls("CreateStack")
        let creates = allCreates.filter { $0.templateURL == url }
        #expect(creates.count == 1, "CreateStack calls: \(allCreates), template at \(url)")
        #expect(try await session.cloudFormation().getTemplate(name) == large)
    }

    @Test func cancellingAnUpdateInProgressRollsItBack() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("cancel-update")
        try await fixture.bench.script(stack: name, stepSeconds: 0.2, holding: [.update: "Setting"])
        let create = try await fixture.nepho.run(["create", "bench-demo", "--name", name])
        #expect(create.status == 0, "\(create.errorOutput)")
        let update = try await fixture.nepho.run([
            "formation:update", name, "-p", "Greeting=bye", "--yes", "--detach",
        ])
        #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
        // The bench holds the update at Setting: it is really in progress.
        #expect(try await fixture.waitForEvent(name, "Setting", "UPDATE_IN_PROGRESS"))
        #expect(try await fixture.stackStatus(name) == "UPDATE_IN_PROGRESS")

        let cancel = try await fixture.nepho.run(["formation:cancel", name])
        #expect(cancel.status == 0, "\(cancel.errorOutput)")
        #expect(cancel.output.contains("update cancelled; it rolls back"), "\(cancel.output)")
        let calls = try await fixture.bench.calls("CancelUpdateStack")
        #expect(calls.count == 1 && calls.first?.status == 200, "\(calls)")

        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 1, "\(watch.output)\(watch.errorOutput)")
        #expect(
            watch.output.contains("Setting  AWS::SSM::Parameter  UPDATE_FAILED  Resource update cancelled"))
        #expect(watch.output.contains("UPDATE_ROLLBACK_COMPLETE"), "\(watch.output)")
        #expect(
            watch.errorOutput.contains("update failed (UPDATE_ROLLBACK_COMPLETE)"), "\(watch.errorOutput)")
        #expect(try await fixture.stackStatus(name) == "UPDATE_ROLLBACK_COMPLETE")
        #expect(try await fixture.describe(name)["status"] as? String == "UPDATE_ROLLBACK_COMPLETE")
    }
}
