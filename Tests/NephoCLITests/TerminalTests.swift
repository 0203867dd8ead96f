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
        nepho.write(["params.yaml": "KeyName: ops\n"])
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
            try nepho cloudlet:update ""
            try nepho parameter:unset K
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
                "mediawiki", "KeyName",
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
            try nepho cr
            """
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        let result = try await ProcessRunner.run(
            "bash", ["-c", harness], environment: environment, timeout: 60)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            Array(lines.prefix(7)) == [
                name, name, "acme/static acme/static/default acme/static/multi-tenant",
                "create watch list describe update destroy cancel open ssh logs", name,
                "acme/static bench-demo", "create",
            ], "\(result.output)\(result.errorOutput)")
    }

    /// zsh through a pseudo-terminal (`zpty`): each line is typed with a TAB at its end in
    /// an interactive zsh with the script installed, and the candidates `compadd` receives
    /// are collected. Each line waits for the one before it to finish, however slow the
    /// machine: no fixed pauses.
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
        zpty z "PS1='>ready>' zsh -f -i"
        # zsh drops what is typed while it sets the terminal up between two commands: each
        # command is typed only once the prompt is back.
        ready() { zpty -r z __seen '*>ready>*' }
        ready
        zpty -w z "fpath=($dir \$fpath); autoload -U compinit; compinit -u -d $dir/.zcompdump"
        ready
        zpty -w z 'compadd() { local -a __hits; builtin compadd -O __hits "$@"; print -l -- "${__hits[@]}" >> "$__out"; builtin compadd "$@"; }'
        n=0
        for line in "$@"; do
          n=$((n+1))
          ready
          zpty -w z "__out=$dir/out.$n"
          ready
          zpty -n -w z "$line"$'\t'
          zpty -n -w z $'\x15'
          # Read by zle after the completion has ended: wait for the mark this prints (the
          # echoed command line does not contain it).
          zpty -w z "print -r -- @@\$(( $n + 1000 ))@@"
          zpty -r z __seen "*@@$(( n + 1000 ))@@*"
        done
        zpty -d z
        """#.write(to: harness, atomically: true, encoding: .utf8)
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        let lines = [
            "nepho formation:watch ", "nepho destroy ", "nepho create bench", "nepho formation ",
            "nepho scenario describe bench", "nepho cr",
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
        #expect(candidates(6) == ["create"], "\(candidates(6))")
    }

    /// fish, interactive on a pseudo-terminal (the generated script asks `commandline` for
    /// the cursor, which only an interactive fish answers). Each line is typed, then a key
    /// bound to `complete -C (commandline -c)` writes the candidates fish's own completion
    /// finds for it to a file; one line is also completed with a real TAB.
    @Test func fishCompletesFormationsShortcutsAndTwoWordSpellings() async throws {
        guard ProcessRunner.resolve("fish") != nil else {
            Issue.record("fish is not installed: scripts/test installs it")
            return
        }
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let nepho = fixture.nepho
        let name = FormationFixture.unique("ftab")
        let create = try await nepho.run(["create", "bench-demo", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.errorOutput)")
        let folder = nepho.home.deletingLastPathComponent().appendingPathComponent("fish")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = try await nepho.run(["completion", "fish"])
        let file = folder.appendingPathComponent("nepho.fish")
        try script.standardOutput.write(to: file)
        let check = try await ProcessRunner.run("fish", ["--no-execute", file.path], timeout: 60)
        #expect(check.status == 0, "\(check.errorOutput)")
        let probe = folder.appendingPathComponent("probe.fish")
        // Bound keys run in fish's line editor, so lines typed after them wait their turn
        // without a command running in between. Each writes out.N (N counts them).
        try """
        source \(file.path)
        set -g __n 0
        function __write
            set -g __n (math $__n + 1)
            cat > \(folder.path)/out.tmp; and mv \(folder.path)/out.tmp \(folder.path)/out.$__n
            commandline -r ''
        end
        function __probe; complete -C (commandline -c) | __write; end
        function __typed; commandline | __write; end
        bind \\cx __probe
        bind \\cy __typed
        echo > \(folder.path)/out.0

        """.write(to: probe, atomically: true, encoding: .utf8)
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        environment["TERM"] = "xterm"
        environment["XDG_CONFIG_HOME"] = folder.path
        let pty = try PseudoTerminal(columns: 200, rows: 50)
        let shell = try pty.spawn(
            path: ProcessRunner.resolve("fish")!, arguments: ["--no-config", "--interactive"],
            environment: environment)
        var written = 0
        /// Types `keys`, which end with a bound key, and waits for the file it writes.
        func outcome(_ keys: String) async -> String? {
            written += 1
            let out = folder.appendingPathComponent("out.\(written)")
            pty.type(keys)
            for _ in 0..<600 {
                if let text = try? String(contentsOf: out, encoding: .utf8) { return text }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            return nil
        }
        func candidates(_ line: String) async -> [String] {
            let text = await outcome(line + "\u{18}") ?? "(no answer)"
            return text.split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }
        }
        pty.type("source \(probe.path)\r")
        for _ in 0..<600
        where !FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.0").path) {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(await candidates("nepho formation:watch ") == [name])
        #expect(await candidates("nepho destroy ") == [name])
        #expect(
            await candidates("nepho create bench") == ["bench-demo", "bench-demo/default", "bench-demo/held"])
        let verbs = await candidates("nepho formation ")
        #expect(Set(verbs).isSuperset(of: ["create", "watch", "destroy", "logs"]), "\(verbs)")
        #expect(!verbs.contains("formation:create"), "\(verbs)")
        #expect(await candidates("nepho formation describe ") == [name])
        #expect(
            await candidates("nepho scenario describe bench") == [
                "bench-demo", "bench-demo/default", "bench-demo/held",
            ])
        let first = await candidates("nepho ")
        #expect(
            Set(first).isSuperset(of: ["create", "destroy", "open", "ssh", "formation:list"]), "\(first)")
        #expect(await candidates("nepho ssh --print-only ") == [name])
        // A real TAB: the only formation is put on the line.
        let typed = await outcome("nepho open \t\u{19}")
        #expect(typed == "nepho open \(name) \n", "\(typed ?? "")\n\(pty.screen())")
        pty.type("exit\r")
        if await shell.exitStatus(timeout: 10) == nil { Issue.record("fish did not exit") }
    }

    /// `cloudlet:install <TAB>` offers the cloudlets of a served registry from nephod's cache:
    /// the registry is not asked again while the shell waits.
    @Test func bashCompletesRegistryCloudletsFromTheCache() async throws {
        let nepho = NephoBinary()
        let registry = RegistryCommandTests()
        let wiki = try await registry.repository(
            nepho, "huit/mediawiki", summary: "a wiki", versions: ["1.0.0"])
        let other = try await registry.repository(
            nepho, "tfhartmann/wiki", summary: "another", versions: ["0.2.0"])
        let site = nepho.home.deletingLastPathComponent().appendingPathComponent("site")
        let build = try await nepho.run(["registry:build", wiki.path, other.path, "--out", site.path])
        try #require(build.succeeded, "\(build.errorOutput)")
        let server = try await TestHTTPServer.start(root: site)
        defer { server.stop() }
        let add = try await nepho.run([
            "cloudlet:registry", "add", "http://127.0.0.1:\(server.port)/index.json",
        ])
        try #require(add.succeeded, "\(add.errorOutput)")
        _ = try await nepho.run(["cloudlet:search"])
        let asked = server.requests().count
        let script = try await nepho.run(["completion", "bash"])
        let file = nepho.home.appendingPathComponent("nepho.bash")
        try script.standardOutput.write(to: file)
        let harness = """
            source \(file.path)
            try() { COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
              _nepho_spellings nepho "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
            try nepho cloudlet:install ""
            try nepho cloudlet install huit/
            """
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        let result = try await ProcessRunner.run(
            "bash", ["-c", harness], environment: environment, timeout: 60)
        _ = try? await nepho.run(["daemon:stop"])
        #expect(
            result.output.split(separator: "\n").map(String.init) == [
                "huit/mediawiki tfhartmann/wiki", "huit/mediawiki",
            ], "\(result.output)\(result.errorOutput)")
        #expect(server.requests().count == asked, "\(server.requests())")
    }

    /// bash on a pseudo-terminal, in a folder that holds a folder named like a cloudlet:
    /// the names are listed whole and once (bash shows only the last part of what it takes
    /// for file names, which made `default` appear twice), a scenario and a cloudlet spelled
    /// alike (`acme` with its scenario `static`, and `acme/static`) are offered once, and
    /// folders still complete as folders.
    @Test func bashListsNamesWholeAndOnce() async throws {
        let nepho = NephoBinary()
        nepho.installDemo("mediawiki")
        nepho.installDemo("acme")
        nepho.installDemo("acme-static")
        for (folder, name) in [("acme", "acme"), ("acme-static", "acme/static")] {
            let manifest = nepho.home.appendingPathComponent("cloudlets/\(folder)/cloudlet.yaml")
            let text = try String(contentsOf: manifest, encoding: .utf8)
            try text.replacingOccurrences(of: "name: \(folder)", with: "name: \(name)").write(
                to: manifest, atomically: true, encoding: .utf8)
        }
        let scenarios = nepho.home.appendingPathComponent("cloudlets/acme/scenarios")
        try FileManager.default.moveItem(
            at: scenarios.appendingPathComponent("multi-tenant.yaml"),
            to: scenarios.appendingPathComponent("static.yaml"))
        let work = nepho.home.deletingLastPathComponent().appendingPathComponent("work")
        try FileManager.default.createDirectory(
            at: work.appendingPathComponent("mediawiki"), withIntermediateDirectories: true)
        let script = try await nepho.run(["completion", "bash"])
        let file = nepho.home.appendingPathComponent("nepho.bash")
        try script.standardOutput.write(to: file)
        var environment = nepho.environment
        environment["PATH"] =
            URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        environment["TERM"] = "dumb"
        environment["INPUTRC"] = "/dev/null"
        let pty = try PseudoTerminal(columns: 200, rows: 50)
        let shell = try pty.spawn(
            path: ProcessRunner.resolve("bash")!, arguments: ["--norc", "--noprofile", "-i"],
            environment: environment)
        defer { _ = Task { _ = try? await nepho.run(["daemon:stop"]) } }
        pty.type("cd \(work.path); PS1='$ '; source \(file.path); echo READY\r")
        #expect(await pty.waitFor(timeout: 30) { $0.contains("READY\r\n$ ") })
        let before = pty.screen().count
        pty.type("nepho create \t\t")
        let listed = await pty.waitFor(timeout: 60) {
            String($0.dropFirst(before)).contains("mediawiki/multi-tenant")
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        // What was shown since, control characters (the bell) as spaces.
        let shown = String(pty.screen().dropFirst(before))
        let screen = String(
            shown.unicodeScalars.map { (scalar: Unicode.Scalar) -> Character in
                scalar.value < 32 ? " " : Character(scalar)
            })
        let typed: Set<String> = ["$", "nepho", "create"]
        let words: [String] = screen.split(separator: " ").map(String.init).filter { !typed.contains($0) }
        #expect(listed, "\(screen)")
        #expect(
            words.sorted() == [
                "acme", "acme/default", "acme/static", "acme/static/default", "acme/static/multi-tenant",
                "mediawiki", "mediawiki/default", "mediawiki/multi-tenant",
            ], "\(screen)")
        pty.type("\u{15}nepho cloudlet:validate medi\t")
        #expect(
            await pty.waitFor(timeout: 30) { $0.contains("cloudlet:validate mediawiki/") }, "\(pty.screen())")
        pty.type("\u{15}exit\r")
        if await shell.exitStatus(timeout: 10) == nil { Issue.record("bash did not exit") }
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
