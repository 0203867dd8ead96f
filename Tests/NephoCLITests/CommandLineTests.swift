import Foundation
import NephoSupport
import Testing

/// The command line as the roadmap's usage text has it: grouped help, `nepho help NOUN`
/// and `nepho NOUN --help`, global options before or after the command.
@Suite struct CommandLineTests {
    @Test func helpIsGroupedAndEachNounListsItsVerbs() async throws {
        let nepho = NephoBinary()
        let root = try await nepho.run(["help"])
        #expect(root.status == 0)
        for heading in [
            "Usage: nepho <command> [<args>...]", "Configuration commands:", "Shortcut commands:",
            "Cloudlet commands:", "Scenario commands:", "Formation commands:", "Daemon commands:",
        ] {
            #expect(root.output.contains(heading), "help lacks \(heading)")
        }
        #expect(root.output.contains("  create              create a new formation from a scenario\n"))
        #expect(try await nepho.run(["--help"]).output == root.output)

        let formation = try await nepho.run(["help", "formation"])
        #expect(formation.status == 0)
        #expect(formation.output.contains("  formation:watch "))
        #expect(formation.output.contains("  destroy             same as nepho formation:destroy\n"))
        #expect(!formation.output.contains("cloudlet:list"))
        #expect(try await nepho.run(["formation", "--help"]).output == formation.output)
        #expect(try await nepho.run(["formation", "-h"]).output == formation.output)
        let scenario = try await nepho.run(["scenario", "--help"])
        #expect(scenario.output.contains("scenario:describe") && !scenario.output.contains("formation:"))

        let create = try await nepho.run(["help", "create"])
        #expect(create.status == 0)
        #expect(create.output.contains("USAGE: nepho formation:create"))
        #expect(
            try await nepho.run(["help", "formation", "watch"]).output.contains(
                "USAGE: nepho formation:watch"))
        #expect(try await nepho.run(["help", "cloudlet:list"]).output.contains("USAGE: nepho cloudlet:list"))

        // A verb several nouns share lists their commands; a word that names none is an error.
        let describe = try await nepho.run(["help", "describe"])
        #expect(describe.status == 0)
        for command in ["cloudlet:describe", "scenario:describe", "formation:describe"] {
            #expect(describe.output.contains("  \(command) "), "\(describe.output)")
        }
        #expect(!describe.output.contains("cloudlet:list"))
        let unknown = try await nepho.run(["help", "nope"])
        #expect(unknown.status != 0)
        #expect(unknown.errorOutput.contains("no command named \"nope\""), "\(unknown.errorOutput)")
        for (typed, said) in [
            (
                ["formation", "lst"],
                "no command named \"formation:lst\": formation's verbs are create, watch, list,"
            ),
            (["nope", "x"], "no command named \"nope\": see `nepho help`"),
        ] {
            let wrong = try await nepho.run(typed)
            #expect(wrong.status == 64)
            #expect(wrong.errorOutput.contains(said), "\(wrong.errorOutput)")
        }
    }

    @Test func globalOptionsGoBeforeOrAfterTheCommand() async throws {
        let nepho = NephoBinary()
        nepho.installDemo()
        for arguments in [
            ["--foreground", "-o", "json", "cloudlet:list"],
            ["-o", "json", "--foreground", "cloudlet", "list"],
            ["--output=json", "--foreground", "cloudlet:list"],
            ["cloudlet:list", "--foreground", "-o", "json"],
            ["cloudlet:list", "-o", "json", "--foreground"],
        ] {
            let result = try await nepho.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.errorOutput)")
            let object = try? JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
            #expect(object?["directories"] != nil, "\(arguments)")
        }
        let yaml = try await nepho.run(["--foreground", "-o", "yaml", "scenario:list", "demo"])
        #expect(yaml.output.hasPrefix("cloudlet: demo\n"), "\(yaml.errorOutput)")
        let noDaemon = try await nepho.run(["--no-autostart", "formation:list"])
        #expect(!noDaemon.errorOutput.contains("Unknown option"), "\(noDaemon.errorOutput)")
        let logs = try await nepho.run(["daemon:logs", "-n", "5", "--no-autostart"])
        #expect(!logs.errorOutput.contains("Unknown option") && logs.status != 64, "\(logs.errorOutput)")
    }
}
