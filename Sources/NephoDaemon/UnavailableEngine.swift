import NephoProtocol

/// Stands in for the engine until `LocalAPI` is wired in: every API method answers
/// "not available in this build". Only the daemon's own methods work.
public struct UnavailableEngine: NephoAPI {
    public init() {}

    private func unavailable<T>(_ name: String) throws -> T {
        throw NephoError(.internalError, "\(name) is not available in this nephod build")
    }

    public func cloudletList(_ params: NoParams) async throws -> CloudletListResult {
        try unavailable("cloudlet.list")
    }
    public func cloudletDescribe(_ params: CloudletRef) async throws -> CloudletDetail {
        try unavailable("cloudlet.describe")
    }
    public func cloudletCreate(_ params: CloudletCreateParams) async throws -> CloudletCreateResult {
        try unavailable("cloudlet.create")
    }
    public func cloudletValidate(_ params: CloudletValidateParams) async throws -> ValidationReport {
        try unavailable("cloudlet.validate")
    }
    public func cloudletDirs(_ params: CloudletDirsParams) async throws -> CloudletDirsResult {
        try unavailable("cloudlet.dirs")
    }
    public func scenarioList(_ params: CloudletRef) async throws -> ScenarioListResult {
        try unavailable("scenario.list")
    }
    public func scenarioDescribe(_ params: ScenarioDescribeParams) async throws -> ScenarioDetail {
        try unavailable("scenario.describe")
    }
    public func parameterList(_ params: NoParams) async throws -> ParameterListResult {
        try unavailable("parameter.list")
    }
    public func parameterGet(_ params: ParameterKey) async throws -> UserParameter {
        try unavailable("parameter.get")
    }
    public func parameterSet(_ params: UserParameter) async throws -> ParameterListResult {
        try unavailable("parameter.set")
    }
    public func parameterUnset(_ params: ParameterKey) async throws -> ParameterListResult {
        try unavailable("parameter.unset")
    }
}
