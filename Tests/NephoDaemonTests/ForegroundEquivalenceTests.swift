import Foundation
import Testing

/// `--foreground` runs the same engine in-process: the same commands give the same
/// standard output and exit status as through the daemon.
@Suite struct ForegroundEquivalenceTests {
    static let commands: [[String]] = [
        ["--version"],
        ["cloudlet:list"],
        ["cloudlet:create", "demo"],
        ["cloudlet:list"],
        ["cloudlet:list", "-o", "json"],
        ["cloudlet:describe", "demo"],
        ["cloudlet:describe", "demo", "-o", "yaml"],
        ["cloudlet:describe", "nope"],
        ["cloudlet:validate", "demo"],
        ["cloudlet:dirs"],
        ["scenario:list", "demo"],
        ["scenario:describe", "demo"],
        ["scenario:describe", "demo", "-o", "json"],
        ["scenario:describe", "demo", "nope"],
        ["parameter:set", "KeyName", "mine"],
        ["parameter:get", "KeyName"],
        ["parameter:list", "-o", "json"],
        ["parameter:unset", "KeyName"],
        ["parameter:get", "KeyName"],
        ["parameter:list"],
    ]

    /// Each command's exit status and standard output, with the home folder masked.
    static func transcript(foreground: Bool) async throws -> [String] {
        let home = TestHome()
        var lines: [String] = []
        for command in commands {
            let arguments = command + (foreground && command != ["--version"] ? ["--foreground"] : [])
            let result = try await NephoProgram.run(arguments, home: home)
            lines.append(
                "$ nepho \(command.joined(separator: " ")) → \(result.status)\n"
                    + result.output.replacingOccurrences(of: home.root.path, with: "$ROOT"))
        }
        if !foreground { await NephoProgram.stopDaemon(home) }
        return lines
    }

    @Test func theSameCommandsGiveTheSameOutputBothWays() async throws {
        let viaDaemon = try await Self.transcript(foreground: false)
        let inProcess = try await Self.transcript(foreground: true)
        #expect(viaDaemon.count == inProcess.count)
        for (daemon, local) in zip(viaDaemon, inProcess) { #expect(daemon == local) }
        #expect(viaDaemon.contains { $0.contains("→ 3") }, "errors are compared too")
    }
}
