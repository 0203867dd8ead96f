import Foundation
import NephoSupport
import NephoTestBench
import Testing

/// `nepho register`, run as the real binary, verifying keys against moto (STS).
@Suite(.serialized) struct RegisterCommandTests {
    static let benches = SharedCloudFormationBench()

    /// A `nepho` with private AWS files, pointed at the bench.
    func nepho() async throws -> (NephoBinary, CloudFormationBench, String, String) {
        let bench = try await Self.benches.bench()
        try await bench.reset()
        let binary = NephoBinary()
        let aws = binary.home.deletingLastPathComponent().appendingPathComponent("aws")
        let config = aws.appendingPathComponent("config").path
        let credentials = aws.appendingPathComponent("credentials").path
        binary.environment["AWS_CONFIG_FILE"] = config
        binary.environment["AWS_SHARED_CREDENTIALS_FILE"] = credentials
        binary.environment["AWS_ENDPOINT_URL"] = bench.endpoint.absoluteString
        return (binary, bench, config, credentials)
    }

    func mode(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
    }

    @Test func withoutATerminalAnswersComeFromStandardInput() async throws {
        let (nepho, bench, config, credentials) = try await nepho()
        let result = try await nepho.run(
            ["register", "--profile", "dev"], input: "eu-west-1\nAKIDNEPHOTEST\nsecret-key-value\n")
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("No AWS credentials were found"))
        #expect(result.errorOutput.contains("Create access key"))
        #expect(result.errorOutput.contains("docs/aws-signup.md"), "nepho's own page (issue 14, item 9)")
        #expect(result.output.contains("The keys work: account 123456789012"))
        #expect(
            !result.output.contains("secret-key-value") && !result.errorOutput.contains("secret-key-value"))
        #expect(
            try String(contentsOfFile: credentials, encoding: .utf8) == """
                [dev]
                aws_access_key_id = AKIDNEPHOTEST
                aws_secret_access_key = secret-key-value

                """)
        #expect(try String(contentsOfFile: config, encoding: .utf8) == "[profile dev]\nregion = eu-west-1\n")
        #expect(try mode(credentials) == 0o600)
        #expect(try mode(config) == 0o600)
        #expect(try await bench.calls("GetCallerIdentity").count == 1)
    }

    @Test func machineOutputIsOneDocument() async throws {
        let (nepho, _, config, _) = try await nepho()
        let result = try await nepho.run(
            ["-o", "json", "register", "--profile", "ci"],
            input: "eu-west-1\nAKIDNEPHOTEST\nsecret-key-value\n")
        #expect(result.status == 0, "\(result.errorOutput)")
        let object = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
        #expect(object?["profile"] as? String == "ci")
        #expect(object?["config"] as? String == config)
        #expect(object?["verified"] as? Bool == true)
        #expect(object?["account"] as? String == "123456789012")
        #expect(!result.output.contains("secret-key-value"))
        let yaml = try await nepho.run(
            ["register", "--profile", "ci", "--no-verify", "-o", "yaml"], input: "\n\n\n")
        #expect(yaml.status == 0 && yaml.output.hasPrefix("config: "), "\(yaml.output)\(yaml.errorOutput)")
    }

    /// The daemon was started from another HOME (a container, CI, `sudo -E`): the
    /// credentials `register` saved under the client's HOME are still the ones used.
    @Test func theClientsHomeFindsTheSavedCredentials() async throws {
        let bench = try await Self.benches.bench()
        let nepho = NephoBinary()
        nepho.environment["AWS_ENDPOINT_URL"] = bench.endpoint.absoluteString
        let base = nepho.home.deletingLastPathComponent()
        let daemonHome = base.appendingPathComponent("daemon-home")
        let clientHome = base.appendingPathComponent("client-home")
        for folder in [daemonHome, clientHome] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        nepho.environment["HOME"] = daemonHome.path
        _ = try await nepho.run(["formation:list"])  // starts nephod with this HOME
        defer { Task { _ = try? await nepho.run(["daemon:stop"]) } }
        nepho.environment["HOME"] = clientHome.path
        let register = try await nepho.run(
            ["register"], input: "us-east-1\nAKIDNEPHOTEST\nsecret-key-value\n")
        #expect(register.status == 0, "\(register.errorOutput)")
        #expect(FileManager.default.fileExists(atPath: clientHome.path + "/.aws/credentials"))
        let list = try await nepho.run(["formation:list"])
        #expect(list.status == 0)
        #expect(!list.errorOutput.contains("not listed"), "\(list.errorOutput)")
    }

    @Test func flagsAndASecretOnStandardInputUpdateAProfileInPlace() async throws {
        let (nepho, _, config, credentials) = try await nepho()
        try FileManager.default.createDirectory(
            atPath: (credentials as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try
            "# mine\n[other]\naws_access_key_id = KEEP\naws_secret_access_key = keep\n\n[default]\naws_access_key_id = OLD\naws_secret_access_key = old\nextra = 1\n"
            .write(toFile: credentials, atomically: true, encoding: .utf8)
        try "[default]\nregion = us-west-2\noutput = json\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let result = try await nepho.run(
            ["register", "--region", "us-east-1", "--access-key-id", "AKIDNEW"], input: "new-secret\n")
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(!result.errorOutput.contains("No AWS credentials were found"))
        #expect(
            try String(contentsOfFile: credentials, encoding: .utf8) == """
                # mine
                [other]
                aws_access_key_id = KEEP
                aws_secret_access_key = keep

                [default]
                aws_access_key_id = AKIDNEW
                aws_secret_access_key = new-secret
                extra = 1

                """)
        #expect(
            try String(contentsOfFile: config, encoding: .utf8)
                == "[default]\nregion = us-east-1\noutput = json\n")
    }

    @Test func keysThatDoNotWorkAreReported() async throws {
        let (nepho, bench, _, credentials) = try await nepho()
        try await bench.inject(
            .error(
                status: 403, code: "InvalidClientTokenId",
                message: "The security token included in the request is invalid."),
            into: "GetCallerIdentity", times: 1)
        let result = try await nepho.run(["register"], input: "us-east-1\nAKIDBAD\nbad-secret\n")
        #expect(result.status == 1)
        #expect(result.errorOutput.contains("The keys do not work: InvalidClientTokenId"))
        #expect(!result.errorOutput.contains("bad-secret"))
        #expect(FileManager.default.fileExists(atPath: credentials), "saved, as aws configure does")
    }

    @Test func missingAnswersAreAClearError() async throws {
        let (nepho, _, _, credentials) = try await nepho()
        let result = try await nepho.run(["register", "--region", "us-east-1"], input: "")
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("no aws access key id given"))
        #expect(!FileManager.default.fileExists(atPath: credentials))
    }

    @Test func onATerminalTheSecretIsNotEchoed() async throws {
        let (nepho, _, _, credentials) = try await nepho()
        // A pseudo-terminal driven by Python's pty module plays the person at the keyboard.
        let script = """
            import os, pty, select, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], [sys.argv[1], "register", "--profile", "tty"])
            seen = b""
            def read_until(text, limit=60):
                global seen
                deadline = time.time() + limit
                while text not in seen and time.time() < deadline:
                    ready, _, _ = select.select([fd], [], [], 0.2)
                    if not ready:
                        continue
                    try:
                        chunk = os.read(fd, 1024)
                    except OSError:
                        return
                    if not chunk:
                        return
                    seen += chunk
            answers = [(b"AWS region: ", b"ap-south-1"), (b"AWS access key id: ", b"AKIDTTY"),
                       (b"AWS secret access key: ", b"tty-secret-value")]
            for prompt, answer in answers:
                read_until(prompt)
                os.write(fd, answer + bytes([10]))
                seen = seen.replace(prompt, b"<asked>", 1)
            read_until(b"no such text: read to the end")
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(seen.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        // The interpreter itself: a pyenv shim would look for its settings under our fake HOME.
        let python = try await ProcessRunner.check("python3", ["-c", "import sys; print(sys.executable)"])
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try await ProcessRunner.run(
            python, ["-c", script, NephoBinary.executable], environment: nepho.environment, timeout: 120)
        #expect(result.status == 0, "\(result.output)\(result.errorOutput)")
        #expect(result.output.contains("AKIDTTY"), "the key id is echoed")
        #expect(!result.output.contains("tty-secret-value"), "the secret is not")
        #expect(result.output.contains("The keys work"))
        #expect(
            try String(contentsOfFile: credentials, encoding: .utf8).contains(
                "aws_secret_access_key = tty-secret-value"))
    }
}
