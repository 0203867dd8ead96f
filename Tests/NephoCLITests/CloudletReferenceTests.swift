import Foundation
import NephoSupport
import Testing

/// A cloudlet is named the way the registry names it (`owner/name[/scenario]`), by its
/// short name when that is unique, or by its folder, in every command that takes one.
@Suite(.serialized) struct CloudletReferenceTests {
    @Test func aRegistryCloudletIsUsedByItsRegistryName() async throws {
        let nepho = NephoBinary()
        _ = try await RegistryCommandTests().registry(nepho)
        let install = try await nepho.run(["cloudlet:install", "huit/mediawiki", "--foreground"])
        #expect(install.output.hasSuffix("└── huit/mediawiki (v1.1.0)\n"), "\(install.errorOutput)")
        for reference in ["huit/mediawiki", "huit/mediawiki/default", "huit-mediawiki", "mediawiki/default"] {
            let describe = try await nepho.run(["scenario:describe", reference, "--foreground"])
            #expect(describe.status == 0, "\(reference): \(describe.errorOutput)")
            #expect(describe.output.contains("Cloudlet: huit/mediawiki\n"), "\(reference)")
        }
        let list = try await nepho.run(["scenario", "list", "huit/mediawiki", "--foreground"])
        #expect(list.output.hasPrefix("default"), "\(list.errorOutput)")

        _ = try await nepho.run(["cloudlet:install", "tfhartmann/mediawiki", "--foreground"])
        let ambiguous = try await nepho.run(["scenario:describe", "mediawiki", "--foreground"])
        #expect(ambiguous.status != 0)
        #expect(
            ambiguous.errorOutput.contains(
                "\"mediawiki\" could mean huit/mediawiki or tfhartmann/mediawiki: give the full name"),
            "\(ambiguous.errorOutput)")
        let missing = try await nepho.run(["scenario:describe", "huit/mediawiki/nope", "--foreground"])
        #expect(missing.status != 0)
        #expect(!missing.errorOutput.contains("no installed cloudlet named \"huit"), "\(missing.errorOutput)")
    }

    @Test func createTakesOwnerSlashName() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let manifest = fixture.nepho.home.appendingPathComponent("cloudlets/bench-demo/cloudlet.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8)
            .replacingOccurrences(of: "name: bench-demo", with: "name: acme/demo")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let name = FormationFixture.unique("owner")
        let create = try await fixture.nepho.run(["create", "acme/demo", "--name", name])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        let formation = try await fixture.describe(name)
        #expect(formation["cloudlet"] as? String == "acme/demo")
        #expect(formation["scenario"] as? String == "default")
    }
}
