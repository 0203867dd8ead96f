import Foundation
import NephoAWS
import NephoHTTP
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// nepho's CloudFormation test bench: moto on a free loopback port behind a proxy that
/// pages, drives realistic stack lifecycles, holds builds open and injects faults.
///
/// It runs `scripts/testbench/cfn_bench.py` (docs/testbench.md). Other processes reach
/// it through `environment` (`AWS_ENDPOINT_URL` and test credentials). It stops when
/// `stop()` is called or this process exits (its standard input closes).
public final class CloudFormationBench: @unchecked Sendable {
    /// The proxy: give this to clients as `AWS_ENDPOINT_URL`.
    public let endpoint: URL
    /// moto itself, without the proxy's scripting and faults.
    public let motoEndpoint: URL
    public let region: String
    /// A folder of this bench's own: its log, and empty shared AWS files.
    public let directory: URL
    private let child: ChildProcess
    private let control = CurlHTTPClient(limits: HTTPLimits(connectTimeout: 10, totalTimeout: 60))

    private init(endpoint: URL, moto: URL, region: String, directory: URL, child: ChildProcess) {
        self.endpoint = endpoint
        motoEndpoint = moto
        self.region = region
        self.directory = directory
        self.child = child
    }

    deinit { stop() }

    /// Starts a bench and waits until it answers.
    public static func start(timeout: Double = 90) async throws -> CloudFormationBench {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let python = ProcessRunner.resolve("python3") else {
            throw BenchError("python3 is not on PATH")
        }
        let log = directory.appendingPathComponent("bench.log").path
        let child = try ChildProcess.spawn(
            path: python, arguments: [scriptPath, "--log", log], environment: nil,
            currentDirectory: directory.path,
            captureInput: true)
        let line = await readFirstLine(child.standardOutput, timeout: timeout)
        struct Ready: Decodable {
            var endpoint: String
            var moto: String
            var region: String
        }
        guard let line, let ready = try? JSONDecoder().decode(Ready.self, from: Data(line.utf8)),
            let endpoint = URL(string: ready.endpoint), let moto = URL(string: ready.moto)
        else {
            child.signal(SIGKILL)
            let tail = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw BenchError("the test bench did not start (log \(log)):\n\(tail.suffix(2000))")
        }
        return CloudFormationBench(
            endpoint: endpoint, moto: moto, region: ready.region, directory: directory, child: child)
    }

    /// `scripts/testbench/cfn_bench.py` of this checkout (or `NEPHO_TESTBENCH_SCRIPT`).
    public static var scriptPath: String {
        if let path = ProcessInfo.processInfo.environment["NEPHO_TESTBENCH_SCRIPT"], !path.isEmpty {
            return path
        }
        return repositoryRoot.appendingPathComponent("scripts/testbench/cfn_bench.py").path
    }

    /// The checkout this file was compiled from.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Stops the bench (idempotent) and removes its folder.
    public func stop() {
        try? child.standardInput?.close()
        child.signal(SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }

    /// `AWS_*` variables that point a client (or a child process) at the bench, with
    /// test credentials and shared files that do not exist (so `~/.aws` is never read).
    public var environment: [String: String] {
        [
            "AWS_ENDPOINT_URL": endpoint.absoluteString,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": directory.appendingPathComponent("no-config").path,
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("no-credentials").path,
            "HOME": directory.path,
        ]
    }

    /// An `AWSConfiguration` for the bench, with `extra` variables laid over `environment`.
    public func configuration(_ extra: [String: String] = [:]) throws -> AWSConfiguration {
        try AWSConfiguration.resolve(environment: environment.merging(extra) { $1 })
    }

    /// A session on the bench; pass a retry policy to control sleeps in tests.
    public func session(retry: RetryPolicy? = nil, http: any HTTPClient = CurlHTTPClient()) throws
        -> AWSSession
    {
        AWSSession(configuration: try configuration(), http: http, retry: retry)
    }

    // MARK: faults

    /// A fault the proxy answers instead of moto.
    public enum Fault: Sendable {
        /// HTTP 400 with this throttling code.
        case throttle(code: String = "Throttling")
        /// This HTTP status (500, 502, 503, 504) with an error document.
        case status(Int)
        /// An AWS error answer of your choosing.
        case error(status: Int, code: String, message: String)
        /// moto's real answer, after a delay.
        case latency(seconds: Double)
        /// The connection is reset (RST) without an answer.
        case reset
        /// No answer until the client gives up (or `seconds` pass).
        case hang(seconds: Double = 3600)
        /// The call reaches moto and acts, but its answer is lost (connection reset).
        case dropAnswer
        /// The call reaches moto and acts at once; its answer reaches the client `seconds` later
        /// (a message received from a queue is then in flight: hidden, not yet handled).
        case lateAnswer(seconds: Double)
        /// This status and body instead of moto's answer (e.g. a truncated document).
        case answer(status: Int, body: String)
    }

    /// Makes the next `times` calls of `action` (after skipping `after` of them) fail with
    /// `fault`. `action` is a Query action (`DescribeStacks`), `*` for any call, or
    /// `METHOD /path` for S3 (matched as a prefix with `pathPrefix`). `times: -1` is forever.
    public func inject(
        _ fault: Fault, into action: String, times: Int = 1, after: Int = 0, pathPrefix: String? = nil
    )
        async throws
    {
        var rule: [String: Any] = ["action": action, "times": times, "after": after]
        if let pathPrefix {
            rule["path_prefix"] = pathPrefix
            rule["action"] = "*"
        }
        switch fault {
        case .throttle(let code): rule["fault"] = "throttle"; rule["code"] = code
        case .status(let status): rule["fault"] = "status"; rule["status"] = status
        case .error(let status, let code, let message):
            rule["fault"] = "error"; rule["status"] = status; rule["code"] = code; rule["message"] = message
        case .latency(let seconds): rule["fault"] = "latency"; rule["seconds"] = seconds
        case .reset: rule["fault"] = "reset"
        case .hang(let seconds): rule["fault"] = "hang"; rule["seconds"] = seconds
        case .dropAnswer: rule["fault"] = "drop"
        case .lateAnswer(let seconds): rule["fault"] = "late"; rule["seconds"] = seconds
        case .answer(let status, let body):
            rule["fault"] = "answer"; rule["status"] = status; rule["body"] = body
        }
        _ = try await post("/_bench/fault", rule)
    }

    /// Answers list calls of `action` in pages of `size` (moto answers them whole).
    public func page(_ action: String, size: Int) async throws {
        _ = try await post("/_bench/paging", ["action": action, "page_size": size])
    }

    /// Forgets faults, paging, lifecycle scripts and the call log.
    public func reset() async throws { _ = try await post("/_bench/reset", [:]) }

    /// From now on (until `reset`), every stack event is also put on moto's default
    /// EventBridge bus as CloudFormation would put it (moto's CloudFormation does not):
    /// source `aws.cloudformation`, detail types "CloudFormation Stack Status Change" and
    /// "CloudFormation Resource Status Change", the documented `detail` fields.
    public func sendEventBridgeEvents(_ on: Bool = true) async throws {
        _ = try await post("/_bench/eventbridge", ["on": on])
    }

    // MARK: lifecycles

    /// An operation on a scripted stack.
    public enum Operation: String, Sendable { case create, update, delete }

    /// From now on, creates, updates and deletes of stack `name` run over time: each
    /// resource (template order; reversed for deletes) gets its IN_PROGRESS event, then
    /// `stepSeconds` later its COMPLETE one. `failing[op]` names a resource that fails
    /// in that operation, followed by the rollback CloudFormation would do.
    /// `holding[op]` names a resource where that operation stops after its IN_PROGRESS
    /// event, until `releaseHold(stack:)` (or, for an update, CancelUpdateStack).
    public func script(
        stack name: String, stepSeconds: Double = 0.2, failing: [Operation: String] = [:],
        holding: [Operation: String] = [:]
    )
        async throws
    {
        var fail: [String: String] = [:]
        for (operation, resource) in failing { fail[operation.rawValue] = resource }
        var hold: [String: String] = [:]
        for (operation, resource) in holding { hold[operation.rawValue] = resource }
        _ = try await post(
            "/_bench/lifecycle", ["stack": name, "step_seconds": stepSeconds, "fail": fail, "hold": hold])
    }

    /// Lets the held scripted operation of stack `name` (a name or stack id) go on.
    public func releaseHold(stack name: String) async throws {
        _ = try await post("/_bench/release-hold", ["stack": name, "region": region])
    }

    /// Records a wait-condition signal on `logicalId` of stack `name` as CloudFormation
    /// does: an IN_PROGRESS event, reason `Received SUCCESS signal with UniqueId ID`.
    public func signal(stack name: String, logicalId: String, uniqueId: String) async throws {
        _ = try await post(
            "/_bench/signal",
            ["stack": name, "logical_id": logicalId, "unique_id": uniqueId, "region": region])
    }

    // MARK: held builds

    /// Creates (once per name) the Lambda function a `Custom::` resource names as its
    /// `ServiceToken` to hold a build open; returns its ARN.
    public func holdFunction(name: String = "nepho-bench-hold") async throws -> String {
        let answer = try await post("/_bench/hold-function", ["name": name, "region": region])
        guard let arn = answer["arn"] as? String else { throw BenchError("bench gave no function ARN") }
        return arn
    }

    /// A template with one `Custom::Hold` resource (`logicalId`) that keeps the stack in
    /// CREATE_IN_PROGRESS until `release`, plus `extraResources` (JSON objects by logical id).
    public func holdingTemplate(functionArn: String, logicalId: String = "Hold", extraResources: String = "")
        -> String
    {
        let extra = extraResources.isEmpty ? "" : ", \(extraResources)"
        return """
            {"Resources": {"\(logicalId)": {"Type": "Custom::Hold", "Properties": {"ServiceToken": "\(functionArn)"}}\(extra)},
             "Outputs": {"Released": {"Value": {"Fn::GetAtt": ["\(logicalId)", "Message"]}}}}
            """
    }

    /// Custom resources of a stack that wait for a response, by logical id.
    public func pendingCustomResources(stackId: String) async throws -> [String] {
        let answer = try await post("/_bench/custom-resources", ["stack_id": stackId, "region": region])
        let resources = answer["resources"] as? [String: [String: Any]] ?? [:]
        return resources.filter { ($0.value["Finished"] as? Bool) == false }.map(\.key).sorted()
    }

    /// Completes a held custom resource with SUCCESS and `data` (its attributes), by
    /// PUTting the cfnresponse document to moto.
    public func release(
        stackId: String, logicalId: String = "Hold", data: [String: String] = ["Message": "released"]
    )
        async throws
    {
        _ = try await post(
            "/_bench/release", ["stack_id": stackId, "logical_id": logicalId, "data": data, "region": region])
    }

    // MARK: what reached the bench

    /// One request the proxy saw.
    public struct Call: Sendable, Equatable {
        public var action: String
        /// The request target as sent: `/…`, or `http://host:port/…` through a proxy.
        public var path: String
        public var fault: String?
        public var status: Int?
        /// The `TemplateURL` parameter of a CloudFormation call that had one.
        public var templateURL: String? = nil
        /// The `StackName` parameter of a CloudFormation call that had one.
        public var stackName: String? = nil
        /// The `Capabilities` a CloudFormation call acknowledged, in order.
        public var capabilities: [String] = []
        /// CreateChangeSet's `IncludeNestedStacks`, when given.
        public var includeNestedStacks: Bool? = nil
        /// The access key id the request was signed with (from its `Authorization` header).
        public var accessKeyID: String? = nil
    }

    /// Every request since the start (or the last `reset`), oldest first.
    public func calls(_ action: String? = nil) async throws -> [Call] {
        let answer = try await post("/_bench/calls", [:])
        let calls = (answer["calls"] as? [[String: Any]] ?? []).map {
            Call(
                action: $0["action"] as? String ?? "", path: $0["path"] as? String ?? "",
                fault: $0["fault"] as? String,
                status: $0["status"] as? Int, templateURL: $0["template_url"] as? String,
                stackName: $0["stack_name"] as? String, capabilities: $0["capabilities"] as? [String] ?? [],
                includeNestedStacks: $0["include_nested_stacks"] as? Bool,
                accessKeyID: $0["access_key_id"] as? String)
        }
        return action.map { name in calls.filter { $0.action == name } } ?? calls
    }

    private func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let request = HTTPRequest(
            method: "POST", url: endpoint.appendingPathComponent(String(path.dropFirst())),
            headers: [("Content-Type", "application/json")],
            body: try JSONSerialization.data(withJSONObject: body))
        let response = try await control.send(request)
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        guard response.status == 200 else {
            throw BenchError("bench \(path): \(object["error"] as? String ?? "HTTP \(response.status)")")
        }
        return object
    }

    private static func readFirstLine(_ handle: FileHandle, timeout: Double) async -> String? {
        await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            let once = ResumeOnce(continuation)
            Thread.detachNewThread {
                var bytes = Data()
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    if chunk.isEmpty || chunk.first == UInt8(ascii: "\n") { break }
                    bytes.append(chunk)
                }
                once.resume(bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self))
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { once.resume(nil) }
        }
    }
}

/// Resumes a continuation at most once.
private final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<String?, Never>?
    init(_ continuation: CheckedContinuation<String?, Never>) { self.continuation = continuation }
    func resume(_ value: String?) {
        let pending = lock.withLock { () -> CheckedContinuation<String?, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(returning: value)
    }
}

/// The bench could not start or refused a request.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// One bench shared by every test of a test process that only needs moto's calls
/// (no faults, no scripts): started on first use, gone when the process exits.
public actor SharedCloudFormationBench {
    public static let instance = SharedCloudFormationBench()
    public init() {}
    private var starting: Task<CloudFormationBench, Error>?

    public func bench() async throws -> CloudFormationBench {
        if let starting { return try await starting.value }
        let task = Task { try await CloudFormationBench.start() }
        starting = task
        return try await task.value
    }
}
