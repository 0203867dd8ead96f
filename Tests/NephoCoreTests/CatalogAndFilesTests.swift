import Foundation
import NephoCore
import NephoSupport
import Testing

@Suite struct CloudletCatalogTests {
    @Test func earlierDirectoriesWinAndDuplicatesAreMarked() throws {
        let fixture = Fixture()
        fixture.write(Fixture.cloudlet(name: "demo", version: "1.0.0"), under: "first/demo")
        fixture.write(Fixture.cloudlet(name: "demo", version: "2.0.0"), under: "second/demo-copy")
        fixture.write(["cloudlet.yaml": "name: [broken\n"], under: "second/broken")
        let catalog = CloudletCatalog(directories: [
            .init(url: fixture.url("first"), isDefault: true),
            .init(url: fixture.url("second"), isDefault: false),
        ])
        let scan = catalog.scan()
        #expect(
            scan[1].entries.first { $0.folder.lastPathComponent == "demo-copy" }?.shadowedBy?.path
                == fixture.url("first/demo").path)
        let broken = scan[1].entries.first { $0.folder.lastPathComponent == "broken" }!
        guard case .failure(let error) = broken.result else {
            Issue.record("broken cloudlet was accepted")
            return
        }
        #expect(error.problems.first?.mark.line == 2)
        #expect(try catalog.find("demo").manifest.version == "1.0.0")
    }

    @Test func shortNamesFindOwnerQualifiedCloudletsUnlessAmbiguous() throws {
        let fixture = Fixture()
        fixture.write(Fixture.cloudlet(name: "huit/mediawiki"), under: "dir/huit-mediawiki")
        let catalog = CloudletCatalog(directories: [.init(url: fixture.url("dir"), isDefault: true)])
        #expect(try catalog.find("mediawiki").name == "huit/mediawiki")
        #expect(try catalog.find("huit-mediawiki").name == "huit/mediawiki")
        fixture.write(Fixture.cloudlet(name: "tfhartmann/mediawiki"), under: "dir/tfhartmann-mediawiki")
        #expect {
            _ = try catalog.find("mediawiki")
        } throws: { error in
            (error as! CloudletError).message
                == "\"mediawiki\" could mean huit/mediawiki or tfhartmann/mediawiki: give the full name"
        }
    }

    @Test func anUnknownNameSaysWhatToDo() {
        let catalog = CloudletCatalog(directories: [.init(url: Fixture().root, isDefault: true)])
        #expect {
            _ = try catalog.find("nothing")
        } throws: { error in
            (error as! CloudletError).kind == .notFound
        }
    }
}

@Suite struct UserFilesTests {
    @Test func userParametersRoundTripAndArePrivate() throws {
        let fixture = Fixture()
        var user = try UserParameters(file: fixture.url("params.yaml"))
        user.set("KeyName", "ops")
        user.set("Count", "3")
        user.set("Flag", "yes")
        try user.save()
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.url("params.yaml").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let again = try UserParameters(file: fixture.url("params.yaml"))
        #expect(again.dictionary == ["KeyName": "ops", "Count": "3", "Flag": "yes"])
        #expect(fixture.read("params.yaml").contains("Count: \"3\""))
    }

    @Test func malformedUserParametersNameTheLine() {
        let fixture = Fixture()
        fixture.write(["params.yaml": "KeyName: ops\nNested:\n  a: b\n"])
        #expect {
            _ = try UserParameters(file: fixture.url("params.yaml"))
        } throws: { error in
            (error as! YAMLError).description
                == "\(fixture.url("params.yaml").path):3:3: the value of Nested must be text or a list of text, found a mapping"
        }
    }

    @Test func configKeepsOtherSectionsWhenDirectoriesChange() throws {
        let fixture = Fixture()
        fixture.write([
            "config.yaml": "registries:\n  - https://example.com/index.json\ncloudlet_dirs: [/a]\n"
        ])
        var config = try NephoConfig(file: fixture.url("config.yaml"))
        #expect(try config.cloudletDirectories() == ["/a"])
        config.set(NephoConfig.cloudletDirsKey, YAMLNode(.sequence([.string("/a"), .string("/b")])))
        try config.save()
        let again = try NephoConfig(file: fixture.url("config.yaml"))
        #expect(try again.cloudletDirectories() == ["/a", "/b"])
        #expect(again["registries"]?.sequence?.first?.scalar == "https://example.com/index.json")
    }
}
