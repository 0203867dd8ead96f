import Foundation

/// A git command that failed, timed out or could not start.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case failed(status: Int32)
        case timedOut(seconds: Double)
        case notStarted(String)
        /// The server wanted a password or key, and nepho never prompts.
        case authenticationRequired
    }

    public var reason: Reason
    /// The command line, with secrets in URLs redacted.
    public var command: [String]
    /// git's standard error (and output), trimmed, secrets redacted.
    public var output: String

    public init(reason: Reason, command: [String], output: String) {
        self.reason = reason
        self.command = command
        self.output = output
    }

    public var description: String {
        let what: String
        switch reason {
        case .failed(let status): what = "failed (exit status \(status))"
        case .timedOut(let seconds): what = "was stopped after its time limit of \(Int(seconds)) s"
        case .notStarted(let why): what = "could not start: \(why)"
        case .authenticationRequired:
            what =
                "failed: the server asked for credentials (or its ssh host key is unknown) and nepho never"
                + " prompts: use an ssh agent or a git credential helper, and add the host to ~/.ssh/known_hosts"
        }
        var text = "\(command.joined(separator: " ")) \(what)"
        if !output.isEmpty { text += "\n" + output }
        return text
    }
}
