import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A private nepho home with a copy of the bench-demo cloudlet, pointed at the test
/// bench, for end-to-end tests through the real `nepho`, `nephod` and monitors. Tests
/// add scenarios to their own copy of the cloudlet.
struct FormationFixture {
    /// One bench for the suites that use this fixture: they script stacks by unique
    /// names and inject no faults, so they can share it.
    static let benches = SharedCloudFormationBench()

    let nepho: NephoBinary
    let bench: CloudFormationBench

    /// `shared`: the suite's bench; a suite that injects faults passes its own.
    static func make(on shared: SharedCloudFormationBench = benches) async throws -> FormationFixture {
        let bench = try await shared.bench()
        let nepho = NephoBinary()
        for (key, value) in bench.environment where key != "HOME" { nepho.environment[key] = value }
        nepho.environment["NEPHOD_PATH"] =
            (NephoBinary.executable as NSString).deletingLastPathComponent + "/nephod"
        let fixture = NephoBinary.repository.appendingPathComponent("Fixtures/cloudlets/bench-demo")
        try FileManager.default.copyItem(
            at: fixture, to: nepho.home.appendingPathComponent("cloudlets/bench-demo"))
        return FormationFixture(nepho: nepho, bench: bench)
    }

    /// Stops the daemon this home started, and any monitor still following a build of
    /// this home (a test that failed may leave a build held open).
    func stop() async {
        _ = try? await nepho.run(["daemon:stop"])
        let builds = nepho.home.appendingPathComponent("builds")
        for file in (try? FileManager.default.contentsOfDirectory(atPath: builds.path)) ?? []
        where file.hasSuffix(".lock") {
            guard
                let text = try? String(contentsOf: builds.appendingPathComponent(file), encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                command.contains("monitor"), command.contains("nephod")
            else { continue }
            kill(pid, SIGTERM)
        }
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// Adds scenario `name` with pattern `aws/<name>.yaml` to this home's bench-demo.
    func addScenario(_ name: String, pattern: String, extra: String = "") {
        nepho.write([
            "cloudlets/bench-demo/patterns/aws/\(name).yaml": pattern,
            "cloudlets/bench-demo/scenarios/\(name).yaml": """
            summary: \(name), made by a test
            provider: aws
            pattern: aws/\(name).yaml
            \(extra)
            """,
        ])
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func describe(_ name: String) async throws -> [String: Any] {
        json(try await nepho.run(["formation:describe", name, "-o", "json"]).output)
    }

    /// The status of the stack as CloudFormation (the bench) tells it.
    func stackStatus(_ name: String) async throws -> String? {
        try await bench.session().cloudFormation().describeStacks(name).first?.status
    }

    /// Waits until the stack has an event for `logicalID` in `status`.
    func waitForEvent(_ name: String, _ logicalID: String, _ status: String, timeout: Double = 120)
        async throws -> Bool
    {
        let deadline = Date().addingTimeInterval(timeout)
        let cloudFormation = try bench.session().cloudFormation()
        while Date() < deadline {
            let events = try await cloudFormation.describeStackEvents(name)
            if events.contains(where: { $0.logicalResourceId == logicalID && $0.status == status }) {
                return true
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        return false
    }

    /// The pid of the live monitor holding the lock of the formation's latest build.
    func monitorPID(_ name: String) async throws -> pid_t? {
        let builds = try await describe(name)["builds"] as? [[String: Any]] ?? []
        guard let build = builds.last?["id"] as? Int else { return nil }
        let lock = nepho.home.appendingPathComponent("builds/\(build).lock")
        for _ in 0..<300 {
            if let text = try? String(contentsOf: lock, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
            {
                return pid
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return nil
    }

    /// Runs `nepho ARGUMENTS` on the terminal `pty`, as a person would: TERM=xterm,
    /// this home's environment plus `extra`.
    func onTerminal(_ pty: PseudoTerminal, _ arguments: [String], _ extra: [String: String] = [:]) throws
        -> PseudoTerminal.Program
    {
        var environment = nepho.environment
        environment["TERM"] = "xterm"
        for (key, value) in extra { environment[key] = value }
        return try pty.spawn(path: NephoBinary.executable, arguments: arguments, environment: environment)
    }
}

/// A minimal terminal screen: applies what a program wrote (text, CR/LF, wrapping at
/// the width, cursor up, erase to the end of line or screen; colours ignored) and gives
/// the lines a person would see, scrollback included.
struct TerminalScreen {
    let width: Int
    let height: Int
    private(set) var rows: [[Character]] = [[]]
    private var row = 0
    private var column = 0
    private var pendingWrap = false

    init(_ text: String, width: Int = 80, height: Int = 24) {
        self.width = width
        self.height = height
        feed(text)
    }

    /// The lines, without trailing blanks.
    var lines: [String] {
        rows.map { String($0).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
    }

    /// The lines that are not empty.
    var text: [String] { lines.filter { !$0.isEmpty } }

    private mutating func newline() {
        row += 1
        if row == rows.count { rows.append([]) }
    }

    private mutating func put(_ character: Character) {
        if pendingWrap {
            newline()
            column = 0
            pendingWrap = false
        }
        while rows[row].count <= column { rows[row].append(" ") }
        rows[row][column] = character
        if column == width - 1 { pendingWrap = true } else { column += 1 }
    }

    private mutating func feed(_ text: String) {
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            switch character {
            case "\r\n":
                column = 0
                pendingWrap = false
                newline()
            case "\r":
                column = 0
                pendingWrap = false
            case "\n":
                newline()
                pendingWrap = false
            case "\u{08}":
                column = max(column - 1, 0)
                pendingWrap = false
            case "\u{1B}":
                guard index < characters.count, characters[index] == "[" else {
                    index += 1
                    continue
                }
                index += 1
                var parameters = ""
                while index < characters.count, let ascii = characters[index].asciiValue, ascii < 0x40 {
                    parameters.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { return }
                let command = characters[index]
                index += 1
                let count = max(Int(parameters) ?? 1, 1)
                pendingWrap = false
                switch command {
                case "A": row = max(row - count, max(rows.count - height, 0))
                case "J":
                    if rows[row].count > column { rows[row].removeSubrange(column...) }
                    rows.removeSubrange((row + 1)...)
                case "K": if rows[row].count > column { rows[row].removeSubrange(column...) }
                default: break  // colours and anything else: no effect on the text
                }
            default:
                if character.isASCII, let ascii = character.asciiValue, ascii < 0x20 { continue }
                put(character)
            }
        }
    }
}
