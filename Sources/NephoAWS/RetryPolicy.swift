import Foundation
import NephoHTTP

/// Retry settings from `AWS_RETRY_MODE`/`AWS_MAX_ATTEMPTS` or the profile's
/// `retry_mode`/`max_attempts`.
public struct RetrySettings: Sendable, Equatable {
    /// `standard` (the default) and `adaptive` both run the standard algorithm here
    /// (nepho has no client-side rate limiter); `legacy` only changes the default attempts.
    public enum Mode: String, Sendable { case standard, legacy, adaptive }

    public var mode: Mode
    /// Attempts in all, first one included.
    public var maxAttempts: Int

    public init(mode: Mode = .standard, maxAttempts: Int? = nil) {
        self.mode = mode
        self.maxAttempts =
            maxAttempts ?? (mode == .legacy ? RetryPolicy.legacyMaxAttempts : RetryPolicy.defaultMaxAttempts)
    }

    static func resolve(environment: [String: String], profile: [String: String]) throws -> RetrySettings {
        var mode = Mode.standard
        if let text = AWSConfiguration.nonEmpty(environment["AWS_RETRY_MODE"])
            ?? AWSConfiguration.nonEmpty(profile["retry_mode"])
        {
            guard let parsed = Mode(rawValue: text.lowercased()) else {
                throw AWSConfigurationError.badSetting(
                    name: "AWS_RETRY_MODE", reason: "'\(text)' is not one of standard, adaptive, legacy")
            }
            mode = parsed
        }
        var attempts: Int?
        if let text = AWSConfiguration.nonEmpty(environment["AWS_MAX_ATTEMPTS"])
            ?? AWSConfiguration.nonEmpty(profile["max_attempts"])
        {
            guard let value = Int(text), value >= 1 else {
                throw AWSConfigurationError.badSetting(
                    name: "AWS_MAX_ATTEMPTS", reason: "'\(text)' is not a whole number of at least 1")
            }
            attempts = value
        }
        return RetrySettings(mode: mode, maxAttempts: attempts)
    }
}

/// Waits between attempts; tests pass a recorder instead of really sleeping.
public protocol RetrySleeper: Sendable {
    func sleep(seconds: Double) async throws
}

/// Sleeps with `Task.sleep`.
public struct TaskSleeper: RetrySleeper {
    public init() {}
    public func sleep(seconds: Double) async throws {
        try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
    }
}

/// The AWS SDKs' "standard" retry mode.
///
/// Constants (docs/aws.md gives sources: the AWS SDKs and Tools reference guide,
/// "Retry behavior", and botocore's `retries/standard.py` and `retries/quota.py`):
/// 3 attempts; delay before retry *i* (1-based) = random(0, 1) × min(2^(i−1), 20) s;
/// a retry quota of 500 shared by every call of the policy, costing 5 per retry
/// (10 after a timeout), refunded on the success that ends a retried call, and
/// topped up by 1 after a success at the first attempt.
public final class RetryPolicy: @unchecked Sendable {
    public static let defaultMaxAttempts = 3
    public static let legacyMaxAttempts = 5
    public static let backoffBase = 2.0
    public static let maxBackoff = 20.0
    public static let initialQuota = 500
    public static let retryCost = 5
    public static let timeoutRetryCost = 10
    public static let noRetryIncrement = 1

    /// Error codes that mean "slow down".
    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    /// Error codes of transient failures.
    public static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    ]
    /// HTTP statuses of transient failures.
    public static let transientStatuses: Set<Int> = [500, 502, 503, 504]

    public let maxAttempts: Int
    private let sleeper: any RetrySleeper
    private let random: @Sendable () -> Double
    private let lock = NSLock()
    private var quota = RetryPolicy.initialQuota

    public init(
        settings: RetrySettings = RetrySettings(), sleeper: any RetrySleeper = TaskSleeper(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        maxAttempts = settings.maxAttempts
        self.sleeper = sleeper
        self.random = random
    }

    /// What is left of the retry quota.
    public var availableQuota: Int { lock.withLock { quota } }

    /// How one attempt ended, as far as retrying cares.
    public enum Outcome: Sendable {
        case success
        /// An AWS error answer.
        case serviceError(code: String, status: Int)
        /// No complete answer.
        case transport(HTTPError)
    }

    /// True when `outcome` is worth another attempt (throttling, 5xx, connection trouble).
    public static func isRetryable(_ outcome: Outcome) -> Bool {
        switch outcome {
        case .success: return false
        case .serviceError(let code, let status):
            return throttlingCodes.contains(code) || transientCodes.contains(code)
                || transientStatuses.contains(status)
        case .transport(let error): return error.isTransient
        }
    }

    /// How an AWS call's attempt ended: an `AWSError` answer, an `HTTPError` without one.
    public static func outcome<T>(_ result: Result<T, Error>) -> Outcome {
        switch result {
        case .success: return .success
        case .failure(let error as AWSError): return .serviceError(code: error.code, status: error.httpStatus)
        case .failure(let error as HTTPError): return .transport(error)
        case .failure: return .serviceError(code: "", status: 0)
        }
    }

    /// Backoff before retry number `retry` (1 for the first retry).
    public func delay(beforeRetry retry: Int) -> Double {
        random() * min(pow(Self.backoffBase, Double(retry - 1)), Self.maxBackoff)
    }

    /// Runs `attempt` until it succeeds, fails for good, runs out of attempts, or the
    /// quota is spent. `classify` says how an attempt ended.
    /// Set around a call whose effect matters (one carrying an idempotency token): records
    /// whether any try may have reached the service without its answer reaching us (a
    /// timeout, a connection lost, a 5xx), whatever the last try's error is.
    public final class Delivery: @unchecked Sendable {
        private let lock = NSLock()
        private var possible = false
        public init() {}
        public var mayHaveActed: Bool { lock.withLock { possible } }
        func note(_ error: Error) {
            let unanswered: Bool
            switch error {
            case let error as HTTPError: unanswered = error.kind == .timeout || error.kind == .connectionLost
            case let error as AWSError: unanswered = error.httpStatus >= 500
            default: unanswered = false
            }
            if unanswered { lock.withLock { possible = true } }
        }
    }

    /// The `Delivery` of the calls made in this task, when one is being watched.
    @TaskLocal public static var delivery: Delivery?

    public func run<T: Sendable>(
        _ attempt: @Sendable (Int) async throws -> T, classify: @Sendable (Result<T, Error>) -> Outcome
    ) async throws -> T {
        var acquired = 0
        var number = 1
        while true {
            let result: Result<T, Error>
            do { result = .success(try await attempt(number)) } catch { result = .failure(error) }
            if case .failure(let error) = result { Self.delivery?.note(error) }
            if Task.isCancelled, case .failure(let error) = result { throw error }
            let outcome = classify(result)
            if case .success = outcome {
                lock.withLock {
                    quota = min(Self.initialQuota, quota + (acquired > 0 ? acquired : Self.noRetryIncrement))
                }
                return try result.get()
            }
            guard Self.isRetryable(outcome), number < maxAttempts else { return try result.get() }
            var cost = Self.retryCost
            if case .transport(let error) = outcome, error.kind == .timeout { cost = Self.timeoutRetryCost }
            let granted: Bool = lock.withLock {
                guard quota >= cost else { return false }
                quota -= cost
                return true
            }
            guard granted else { return try result.get() }
            acquired = cost
            try await sleeper.sleep(seconds: delay(beforeRetry: number))
            number += 1
        }
    }
}
