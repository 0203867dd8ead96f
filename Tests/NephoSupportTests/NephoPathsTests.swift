import Foundation
import NephoSupport
import Testing

@Suite struct NephoPathsTests {
    @Test func homeDefaultsToDotNephoUnderHome() {
        let paths = NephoPaths(environment: ["HOME": "/home/ada"])
        #expect(paths.home.path == "/home/ada/.nepho")
        #expect(paths.cloudlets.path == "/home/ada/.nepho/cloudlets")
        #expect(paths.socket.path == "/home/ada/.nepho/run/nephod.sock")
    }

    @Test func nephoHomeAndRuntimeDirectoryAreHonoured() {
        let paths = NephoPaths(environment: [
            "HOME": "/home/ada", "NEPHO_HOME": "/srv/nepho/", "XDG_RUNTIME_DIR": "/run/user/1000",
        ])
        #expect(paths.home.path == "/srv/nepho")
        #expect(paths.database.path == "/srv/nepho/state.db")
        #expect(paths.socket.path == "/run/user/1000/nepho/nephod.sock")
    }
}

@Suite struct ProcessRunnerTests {
    @Test func capturesOutputAndStatus() async throws {
        let result = try await ProcessRunner.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.output == "out\n")
        #expect(result.errorOutput == "err\n")
        #expect(result.status == 3)
        #expect(!result.succeeded)
    }

    @Test func feedsStandardInput() async throws {
        let result = try await ProcessRunner.check("cat", [], input: Data("hello".utf8))
        #expect(result.output == "hello")
    }

    @Test func killsAChildThatOverrunsItsTimeLimit() async throws {
        let result = try await ProcessRunner.run("sleep", ["30"], timeout: 0.2)
        #expect(result.timedOut)
        #expect(!result.succeeded)
    }

    @Test func checkCarriesTheCommandLineInItsError() async throws {
        do {
            _ = try await ProcessRunner.check("sh", ["-c", "echo broken >&2; exit 1"])
            Issue.record("expected a failure")
        } catch let error as ProcessError {
            #expect(error.description.contains("sh -c"))
            #expect(error.description.contains("broken"))
        }
    }

    @Test func aMissingCommandIsAClearError() async {
        await #expect(throws: ProcessError.self) {
            _ = try await ProcessRunner.run("no-such-command-nepho", [])
        }
    }
}

@Suite struct SecretTests {
    @Test func neverPrintsItsValue() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(secret.reveal() == "hunter2")
    }
}

@Suite struct ChildSignalTests {
    /// Swift's concurrency threads block most signals; a child must not inherit that,
    /// or it would ignore SIGTERM and Ctrl-C.
    @Test func aChildStartsWithNoBlockedSignals() async throws {
        let result = try await ProcessRunner.check("grep", ["SigBlk", "/proc/self/status"])
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("0000000000000000"))
    }
}
