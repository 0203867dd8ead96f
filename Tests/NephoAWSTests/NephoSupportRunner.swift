import Foundation
import NephoSupport

/// Runs the AWS CLI (another process) with a given environment.
enum NephoSupportRunner {
    static func awsCLI(_ arguments: [String], environment: [String: String]) async throws -> String {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        env.merge(environment) { $1 }
        let result = try await ProcessRunner.check("aws", arguments, environment: env, timeout: 120)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
