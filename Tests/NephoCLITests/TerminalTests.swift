import Foundation
import NephoProtocol
import NephoSupport
import NephoTestBench
import Testing

@testable import NephoCLI

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ParameterPromptTests {
    let parameters = [
        ResolvedParameter(
            name: "KeyName", value: nil, layer: nil, description: "SSH key pair", defaultValue: nil,
            allowedValues: [],
            required: true, secret: false),
        ResolvedParameter(
            name: "Size", value: nil, layer: nil, description: nil, defaultValue: nil,
            allowedValues: ["small", "large"],
            required: true, secret: false),
        ResolvedParameter(
            name: "DBPassword", value: nil, layer: nil, description: "database password", defaultValue: nil,
            allowedValues: [], required: true, secret: true),
        ResolvedParameter(
            name: "Region", value: "us-east-1", layer: .user, description: nil, defaultValue: nil,
            allowedValues: [],
            required: true, secret: false),
    ]

    @Test func asksForEachMissingValueOnATerminalWithoutEchoingSecrets() async throws {
        let pty = try PseudoTerminal()
        let terminal = Terminal(input: pty.child, output: pty.child)
        let parameters = self.parameters
        let asking = Task.detached { try ParameterPrompter(terminal: terminal).answers(for: parameters) }
        var screen = ""
        // Answer each prompt only once it is shown, as a person would.
        for (prompt, answer) in [
            ("KeyName: ", "ops"), ("Size: ", "huge"), ("choose one of", "large"), ("(hidden): ", "hunter2"),
        ] {
            let deadline = Date().addingTimeInterval(30)
            while !screen.contains(prompt) && Date() < deadline {
                try await Task.sleep(nanoseconds: 10_000_000)
                screen = pty.screen()
            }
            #expect(screen.contains(prompt))
            if prompt == "(hidden): " { #expect(!pty.echoIsOn, "echo must be off while a secret is typed") }
            pty.type(answer + "\n")
            if prompt == "choose one of" {
                // The retry prompt follows the hint.
                continue
            }
        }
        let answers = try await asking.value
        screen = pty.screen()
        #expect(answers == ["KeyName": "ops", "Size": "large", "DBPassword": "hunter2"])
        #expect(screen.contains("KeyName — SSH key pair"))
        #expect(screen.contains("one of: small, large"))
        #expect(screen.contains("choose one of: small, large"))
        #expect(screen.contains("DBPassword (hidden): "))
        #expect(!screen.contains("hunter2"), "the secret was echoed: \(screen)")
        #expect(screen.contains("ops"), "ordinary answers are echoed")
        #expect(pty.echoIsOn, "echo must be restored after a secret")
    }

    @Test func withoutATerminalEveryMissingParameterIsListed() {
        #expect {
            _ = try ParameterPrompter(terminal: nil).answers(for: parameters)
        } throws: { error in
            let nepho = error as! NephoError
            return nepho.code == .missingParameters
                && nepho.message == "missing required parameters: KeyName, Size, DBPassword"
                && nepho.details.count == 3
        }
    }
}

@Suite struct ColorAndCompletionTests {
    /// `script` gives the command a real terminal.
    func onATerminal(_ nepho: NephoBinary, _ command: String, noColor: Bool) async throws -> String {
        var environment = nepho.environment
        environment["TERM"] = "xterm"
        if noColor { environment["NO_COLOR"] = "1" }
        let result = try await ProcessRunner.run(
            "script", ["-qec", "\(NephoBinary.executable) \(command)", "/dev/null"], environment: environment,
            timeout: 60)
        return result.output
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() async throws {
        let nepho = NephoBinary()
        nepho.installDemo()
        #expect(try await onATerminal(nepho, "cloudlet:list", noColor: false).contains("\u{1B}["))
        #expect(!(try await onATerminal(nepho, "cloudlet:list", noColor: true).contains("\u{1B}[")))
        #expect(!(try await nepho.run(["cloudlet:list"]).output.contains("\u{1B}[")))
    }

    @Test func bashCompletesCommandsCloudletsAndScenarios() async throws {
        let nepho = NephoBinary()
        nepho.installDemo("mediawiki")
        let script = try await nepho.run(["completion", "bash"])
        let file = nepho.home.appendingPathComponent("nepho.bash")
        try script.standardOutput.write(to: file)
        let harness = """
            source \(file.path)
            try() { COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
              _nepho nepho "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
            try nepho cloudlet:d
            try nepho cloudlet:describe ""
            try nepho scenario:describe mediawiki/
            """
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        let result = try await ProcessRunner.run(
            "bash", ["-c", harness], environment: environment, timeout: 60)
        _ = try? await nepho.run(["daemon:stop"])  // the names came from the daemon it started
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "cloudlet:describe cloudlet:dirs", "mediawiki", "mediawiki/default mediawiki/multi-tenant",
            ], "\(result.errorOutput)")
    }

    @Test func bashCompletesFormationsShortcutsAndTwoWordSpellings() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let nepho = fixture.nepho
        nepho.installDemo("acme-static")
        let manifest = nepho.home.appendingPathComponent("cloudlets/acme-static/cloudlet.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(
            of: "name: acme-static", with: "name: acme/static")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let name = FormationFixture.unique("tab")
        let create = try await nepho.run(["create", "bench-demo", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.errorOutput)")
        let script = try await nepho.run(["completion", "bash"])
        let file = nepho.home.appendingPathComponent("nepho.bash")
        try script.standardOutput.write(to: file)
        let harness = """
            source \(file.path)
            try() { COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
              _nepho_spellings nepho "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
            try nepho formation:watch ""
            try nepho destroy ""
            try nepho create acme/
            try nepho formation ""
            try nepho formation describe ""
            try nepho cloudlet describe ""
            """
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        let result = try await ProcessRunner.run(
            "bash", ["-c", harness], environment: environment, timeout: 60)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            Array(lines.prefix(6)) == [
                name, name, "acme/static acme/static/default acme/static/multi-tenant",
                "create watch list describe update destroy cancel open ssh logs", name,
                "acme/static bench-demo",
            ], "\(result.output)\(result.errorOutput)")
    }

    /// zsh through a pseudo-terminal (`zpty`): each line is typed with a TAB at its end in
    /// an interactive zsh with the script installed, and the candidates `compadd` receives
    /// are collected.
    @Test func zshCompletesFormationsShortcutsAndTwoWordSpellings() async throws {
        guard ProcessRunner.resolve("zsh") != nil else {
            Issue.record("zsh is not installed: scripts/test installs it")
            return
        }
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let nepho = fixture.nepho
        let name = FormationFixture.unique("ztab")
        let create = try await nepho.run(["create", "bench-demo", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.errorOutput)")
        let folder = nepho.home.deletingLastPathComponent().appendingPathComponent("zsh")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = try await nepho.run(["completion", "zsh"])
        try script.standardOutput.write(to: folder.appendingPathComponent("_nepho"))
        let harness = folder.appendingPathComponent("harness.zsh")
        try #"""
        zmodload zsh/zpty
        dir=$1; shift
        zpty z zsh -f -i
        zpty -w z "PS1=''; fpath=($dir \$fpath); autoload -U compinit; compinit -u -d $dir/.zcompdump"
        zpty -w z 'compadd() { local -a __hits; builtin compadd -O __hits "$@"; print -l -- "${__hits[@]}" >> "$__out"; builtin compadd "$@"; }'
        n=0
        for line in "$@"; do
          n=$((n+1))
          zpty -w z "__out=$dir/out.$n"
          zpty -n -w z "$line"$'\t'
          sleep 3
          zpty -n -w z $'\x15'
          sleep 0.5
        done
        zpty -d z
        """#.write(to: harness, atomically: true, encoding: .utf8)
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        let lines = [
            "nepho formation:watch ", "nepho destroy ", "nepho create bench", "nepho formation ",
            "nepho scenario describe bench",
        ]
        let run = try await ProcessRunner.run(
            "zsh", ["-f", harness.path, folder.path] + lines, environment: environment, timeout: 120)
        #expect(run.status == 0, "\(run.errorOutput)")
        func candidates(_ index: Int) -> Set<String> {
            let file = folder.appendingPathComponent("out.\(index)")
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            return Set(text.split(separator: "\n").map(String.init))
        }
        #expect(candidates(1) == [name], "\(candidates(1))")
        #expect(candidates(2) == [name], "\(candidates(2))")
        #expect(candidates(3) == ["bench-demo", "bench-demo/default", "bench-demo/held"], "\(candidates(3))")
        #expect(candidates(4).isSuperset(of: ["create", "watch", "destroy", "logs"]), "\(candidates(4))")
        #expect(candidates(5) == ["bench-demo", "bench-demo/default", "bench-demo/held"], "\(candidates(5))")
    }

    /// fish's `complete -C` cannot run the generated script's `commandline` calls outside an
    /// interactive shell, so this checks the script's syntax and that it asks nepho for
    /// cloudlet names (the bash test above exercises that call for real).
    @Test func fishScriptIsValidAndItsCompletionCallAnswers() async throws {
        guard ProcessRunner.resolve("fish") != nil else {
            Issue.record("fish is not installed: scripts/test installs it")
            return
        }
        let nepho = NephoBinary()
        nepho.installDemo("mediawiki")
        let script = try await nepho.run(["completion", "fish"])
        let file = nepho.home.appendingPathComponent("nepho.fish")
        try script.standardOutput.write(to: file)
        let check = try await ProcessRunner.run("fish", ["--no-execute", file.path], timeout: 60)
        #expect(check.status == 0, "\(check.errorOutput)")
        #expect(script.output.contains("---completion scenario:list -- positional@0"))
    }

    @Test func zshScriptIsValidAndCompletesNamesThroughNepho() async throws {
        guard ProcessRunner.resolve("zsh") != nil else {
            Issue.record("zsh is not installed: scripts/test installs it")
            return
        }
        let nepho = NephoBinary()
        let script = try await nepho.run(["completion", "zsh"])
        let file = nepho.home.appendingPathComponent("_nepho")
        try script.standardOutput.write(to: file)
        let check = try await ProcessRunner.run("zsh", ["-n", file.path], timeout: 60)
        #expect(check.status == 0, "\(check.errorOutput)")
        #expect(script.output.contains("---completion scenario:describe"))
    }
}
