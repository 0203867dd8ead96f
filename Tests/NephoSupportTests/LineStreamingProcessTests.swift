import Foundation
import NephoSupport
import Testing

/// Lines reach the caller while the child still runs (the child waits for a file the
/// test creates only after it has read the first line), in order per stream, with a last
/// line that has no newline.
@Suite struct LineStreamingProcessTests {
    @Test func linesArriveBeforeTheChildExits() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let flag = folder.appendingPathComponent("go").path
        let script = """
            echo first
            echo 'to stderr' >&2
            while [ ! -e "$FLAG" ]; do sleep 0.05; done
            echo second
            printf 'no newline'
            exit 7
            """
        let process = try LineStreamingProcess.start(
            "sh", ["-c", script], environment: ["PATH": "/usr/bin:/bin", "FLAG": flag])
        var output: [String] = []
        var errors: [String] = []
        for await line in process.lines {
            switch line.stream {
            case .standardOutput:
                output.append(line.text)
                if line.text == "first" {
                    #expect(process.child.isRunning)
                    _ = FileManager.default.createFile(atPath: flag, contents: nil)
                }
            case .standardError:
                errors.append(line.text)
            }
        }
        #expect(output == ["first", "second", "no newline"])
        #expect(errors == ["to stderr"])
        #expect(await process.exitStatus() == 7)
    }

    @Test func missingProgramIsAnError() {
        #expect(throws: ProcessError.self) {
            _ = try LineStreamingProcess.start(
                "no-such-program-nepho", [], environment: ["PATH": "/nonexistent"])
        }
    }

    /// With `carriageReturns`, each `\r`-ended piece (a progress line git redraws) comes
    /// as soon as it is written, keeping its `\r` (the child waits for a file the test
    /// creates only once it has the first piece); `\r\n` is an ordinary line end.
    @Test func carriageReturnsEndPiecesToo() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-pieces-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let flag = folder.appendingPathComponent("go").path
        let script = #"""
            printf 'Receiving  1%%\r'
            while [ ! -e "$FLAG" ]; do sleep 0.05; done
            printf 'Receiving 100%%\rdone.\nwindows\r\nlast'
            """#
        let process = try LineStreamingProcess.start(
            "sh", ["-c", script], environment: ["PATH": "/usr/bin:/bin", "FLAG": flag], carriageReturns: true)
        var pieces: [String] = []
        for await line in process.lines {
            pieces.append(line.text)
            if pieces.count == 1 { _ = FileManager.default.createFile(atPath: flag, contents: nil) }
        }
        #expect(pieces == ["Receiving  1%\r", "Receiving 100%\r", "done.", "windows\r", "last"])
    }
}
