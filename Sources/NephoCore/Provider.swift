import Foundation

/// Which provider builds a scenario's formations: `aws` (CloudFormation), `vagrant`,
/// or one registered by a driver (docs/providers.md). The identifier is what a scenario
/// file says (`provider: aws`) and what `state.db` keeps; nothing compares it as text.
public struct Provider: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let id: String

    public init(_ id: String) { self.id = id }

    public var description: String { id }
    public static func < (a: Provider, b: Provider) -> Bool { a.id < b.id }

    public init(from decoder: Decoder) throws { id = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(id)
    }
}

/// What a scenario file of a provider may say, beyond the keys every scenario has: the
/// scenario-format half of a provider (the driver in NephoEngine is the other half).
public struct ProviderTraits: Sendable {
    public var provider: Provider
    /// Scenario keys only this provider reads (`outputs` for aws, `url` for vagrant).
    public var scenarioKeys: Set<String>
    /// The pattern is a CloudFormation template: its `Parameters` are a layer of values,
    /// and `cloudlet:validate` checks the scenario's parameters against them.
    public var readsTemplateParameters: Bool
    /// One line for the docs and `unknown provider` messages.
    public var summary: String

    public init(
        provider: Provider, scenarioKeys: Set<String> = [], readsTemplateParameters: Bool = false,
        summary: String
    ) {
        self.provider = provider
        self.scenarioKeys = scenarioKeys
        self.readsTemplateParameters = readsTemplateParameters
        self.summary = summary
    }

    /// Folder of the provider's patterns under a cloudlet's `patterns/`.
    public var patternFolder: String { provider.id }
}

/// The providers scenario files may name: those nepho ships, and any a driver
/// registers at start-up (a process registers its drivers before it reads a cloudlet).
public enum Providers {
    public static let cloudFormation = ProviderTraits(
        provider: Provider("aws"), scenarioKeys: ["outputs"], readsTemplateParameters: true,
        summary: "CloudFormation stacks")
    public static let vagrant = ProviderTraits(
        provider: Provider("vagrant"), scenarioKeys: ["url"], summary: "Vagrant machines")

    private static let lock = NSLock()
    nonisolated(unsafe) private static var table: [Provider: ProviderTraits] = [
        cloudFormation.provider: cloudFormation, vagrant.provider: vagrant,
    ]

    /// Makes `traits.provider` a provider scenario files may name.
    public static func register(_ traits: ProviderTraits) {
        lock.withLock { table[traits.provider] = traits }
    }

    public static func traits(_ provider: Provider) -> ProviderTraits? {
        lock.withLock { table[provider] }
    }

    /// Every known provider, by identifier.
    public static var known: [ProviderTraits] {
        lock.withLock { table.values.sorted { $0.provider < $1.provider } }
    }

    /// The error for a provider nobody registered.
    public static func unknown(_ name: String) -> String {
        "unknown provider \"\(name)\" (nepho knows: \(known.map(\.provider.id).joined(separator: ", ")))"
    }

    /// The providers whose scenarios may use `key`, for "applies to … scenarios only".
    static func names(reading key: String) -> String {
        known.filter { $0.scenarioKeys.contains(key) }.map(\.provider.id).joined(separator: " or ")
    }
}
