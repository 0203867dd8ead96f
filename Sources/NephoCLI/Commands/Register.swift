import ArgumentParser
import Foundation
import NephoAWS
import NephoHTTP
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

extension Nepho {
    /// `nepho register`: saves AWS keys and a region as a profile in the AWS shared
    /// files, as `aws configure` does, then checks the keys with STS GetCallerIdentity.
    /// Runs in the CLI process: no key goes to the daemon or to nepho's database.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register",
            abstract: "Set cloud provider credentials (an AWS profile) and check that they work.",
            discussion: """
                On a terminal, asks for the region, the access key id and the secret access key \
                (typed without echo); Enter keeps a value the profile already has. Without a \
                terminal, values not given as options are read from standard input, one per line, \
                in that order. The secret is never taken as an option, so it stays out of the \
                process list and shell history. Keys go to the shared credentials file \
                (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials) and the region to the config \
                file (AWS_CONFIG_FILE, ~/.aws/config), both mode 0600.
                """)

        @Option(help: "The profile to write (default: $AWS_PROFILE, else default).")
        var profile: String?
        @Option(help: "The AWS region, e.g. us-east-1.")
        var region: String?
        @Option(name: .customLong("access-key-id"), help: "The access key id (AKIA…).")
        var accessKeyId: String?
        @Flag(name: .customLong("no-verify"), help: "Save without checking the keys.")
        var noVerify = false
        @OptionGroup var global: GlobalOptions

        /// What `register -o json|yaml` prints: one document.
        struct Outcome: Encodable {
            var profile: String
            var region: String
            var config: String
            var credentials: String
            /// nil with --no-verify.
            var verified: Bool?
            var account: String?
            var arn: String?
            var problem: String?
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let profileName =
                profile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
            // What the profile already holds, to offer as defaults (never the environment's keys).
            var current = environment
            for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] {
                current[key] = nil
            }
            let existingProfile = try? AWSConfiguration.resolve(environment: current, profile: profileName)
            let known = existingProfile?.credentials
            let knownRegion = existingProfile.flatMap { _ in Self.profileRegion(current, profileName) }

            let anyCredentials = (try? AWSConfiguration.resolve(environment: environment))?.credentials != nil
            if !anyCredentials { Self.stderr(Self.signUpHelp + "\n\n") }

            let input = Answers(terminal: Terminal.interactive())
            let regionValue = try region ?? input.ask("AWS region", current: knownRegion, secret: false)
            let keyValue =
                try accessKeyId
                ?? input.ask(
                    "AWS access key id", current: known?.accessKeyId, secret: false, shown: Self.masked)
            let secretValue = try input.ask(
                "AWS secret access key", current: known?.secretAccessKey.reveal(), secret: true,
                shown: { _ in "****" })

            let registration = AWSRegistration(
                profile: profileName, region: regionValue, accessKeyId: keyValue,
                secretAccessKey: Secret(secretValue))
            let paths: (config: String, credentials: String)
            do {
                paths = try registration.save(environment: environment)
            } catch let error as AWSConfigurationError {
                if global.output != .text {
                    throw global.renderer.report(NephoError(.invalidInput, "\(error)"))
                }
                Self.stderr("nepho register: \(error)\n")
                throw ExitCode.validationFailure
            }
            let text = global.output == .text
            if text { print("Saved profile '\(profileName)' to \(paths.credentials) and \(paths.config).") }
            var outcome = Outcome(
                profile: profileName, region: regionValue, config: paths.config,
                credentials: paths.credentials)
            defer { if !text { try? global.renderer.emit(outcome) { _ in } } }
            if noVerify { return }
            do {
                let identity = try await registration.verify(environment: environment)
                (outcome.verified, outcome.account, outcome.arn) = (true, identity.account, identity.arn)
                if text { print("The keys work: account \(identity.account), \(identity.arn).") }
            } catch let error as AWSError {
                outcome.verified = false
                outcome.problem = "The keys do not work: \(error.code): \(error.message)"
                if text { Self.stderr(outcome.problem! + "\n") }
                throw ExitCode(1)
            } catch {
                outcome.verified = false
                outcome.problem = "Could not check the keys: \(SystemError.reason(error))"
                if text { Self.stderr(outcome.problem! + "\n") }
                throw ExitCode(1)
            }
        }

        static func profileRegion(_ environment: [String: String], _ profile: String) -> String? {
            let paths = AWSConfiguration.sharedFilePaths(environment: environment)
            let file = try? AWSSharedFile.load(paths.config)
            return file?.configProfile(profile)?["region"]
        }

        static func masked(_ key: String) -> String { "****" + key.suffix(4) }

        static func stderr(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

        /// What `register` says when no credentials are found: nepho's own page on how to
        /// sign up (docs/aws-signup.md), in short.
        static let signUpHelp = """
            No AWS credentials were found. nepho's page on getting some is docs/aws-signup.md \
            (in nepho's documentation); in short:
              1. Sign up at https://portal.aws.amazon.com/billing/signup (or sign in).
              2. In the IAM console, choose or create a user for nepho, then Security credentials
                 > Create access key (Command Line Interface). The secret is shown only once.
              3. Give them to nepho here: they are saved as a profile in the AWS shared files.
            """
    }
}

/// Reads answers from a terminal (with prompts; secrets without echo) or, without one,
/// one line each from standard input.
private struct Answers {
    var terminal: Terminal?

    func ask(_ question: String, current: String?, secret: Bool, shown: (String) -> String = { $0 }) throws
        -> String
    {
        if let terminal {
            let hint = current.map { " [\(shown($0))]" } ?? ""
            for _ in 0..<3 {
                guard let line = Self.prompt(terminal, "\(question)\(hint): ", echo: !secret) else { break }
                let answer = line.trimmingCharacters(in: .whitespaces)
                if !answer.isEmpty { return answer }
                if let current { return current }
                terminal.write("  a value is required\n")
            }
            throw ValidationError("no \(question.lowercased()) given")
        }
        guard let line = Swift.readLine(strippingNewline: true) else {
            if let current { return current }
            throw ValidationError(
                "no \(question.lowercased()) given: without a terminal, pass it as an option or on standard input"
            )
        }
        let answer = line.trimmingCharacters(in: .whitespaces)
        if answer.isEmpty, let current { return current }
        return answer
    }

    /// Writes `question` and reads the answer. For a secret, echo goes off *before* the
    /// question appears (and without discarding typed-ahead input), so nothing typed
    /// after the prompt is ever shown.
    static func prompt(_ terminal: Terminal, _ question: String, echo: Bool) -> String? {
        if echo {
            terminal.write(question)
            return terminal.readLine(echo: true)
        }
        var saved = termios()
        let canHide = tcgetattr(terminal.input, &saved) == 0
        if canHide {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(terminal.input, TCSANOW, &quiet)
        }
        defer {
            if canHide { tcsetattr(terminal.input, TCSANOW, &saved) }
            terminal.write("\n")
        }
        terminal.write(question)
        return terminal.readLine(echo: true)
    }
}
