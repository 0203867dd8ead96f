import NephoCore
import NephoProtocol

/// Maps a provider's identifier to its driver: the one place that knows which
/// providers a process has. `standard` is what nephod and `nepho --foreground` run
/// with; a program (or a test) with another provider adds its driver (docs/providers.md).
public struct ProviderRegistry: Sendable {
    private let drivers: [Provider: any FormationDriver]

    /// nepho's own providers: CloudFormation and Vagrant.
    public static let standard = ProviderRegistry([CloudFormationDriver(), VagrantDriver()])

    /// A registry of `drivers`; each becomes a provider scenario files may name.
    public init(_ drivers: [any FormationDriver]) {
        var table: [Provider: any FormationDriver] = [:]
        for driver in drivers {
            table[driver.provider] = driver
            Providers.register(driver.traits)
        }
        self.drivers = table
    }

    /// This registry with `driver` too.
    public func adding(_ driver: any FormationDriver) -> ProviderRegistry {
        ProviderRegistry(Array(drivers.values) + [driver])
    }

    /// Every driver, by identifier.
    public var all: [any FormationDriver] { drivers.values.sorted { $0.provider < $1.provider } }

    /// The driver of `provider`, or the clear error naming those there are.
    public func driver(for provider: Provider) throws -> any FormationDriver {
        guard let driver = drivers[provider] else {
            throw NephoError(
                .invalidInput,
                "unknown provider \"\(provider)\" (nepho knows: \(all.map(\.provider.id).joined(separator: ", ")))"
            )
        }
        return driver
    }

    /// The driver of a stored formation's provider.
    public func driver(forStored identifier: String) throws -> any FormationDriver {
        try driver(for: Provider(identifier))
    }
}
