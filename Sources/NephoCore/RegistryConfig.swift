import Foundation
import NephoSupport

/// The registry settings in `$NEPHO_HOME/config.yaml`:
///
/// ```yaml
/// registries:                 # searched in order; the first is the default
///   - https://cloudlets.example.org/index.json
///   - file:///srv/team-registry/index.json
/// registry_max_age: 3600      # seconds a cached index is used without asking
/// ```
extension NephoConfig {
    public static let registriesKey = "registries"
    public static let registryMaxAgeKey = "registry_max_age"
    /// One hour.
    public static let defaultRegistryMaxAge: TimeInterval = 3600

    /// The configured registries, in order.
    public func registries() throws -> [RegistryLocation] {
        guard let node = self[Self.registriesKey], !node.isNull else { return [] }
        guard let items = node.sequence else {
            throw YAMLError(
                file: file.path, mark: node.mark, message: "\"registries\" must be a list of URLs")
        }
        return try items.map { item in
            guard let text = item.scalar, !text.isEmpty else {
                throw YAMLError(file: file.path, mark: item.mark, message: "each registry must be a URL")
            }
            do {
                return try RegistryLocation(text)
            } catch {
                throw YAMLError(file: file.path, mark: item.mark, message: "\(error)")
            }
        }
    }

    /// Replaces the list of registries.
    public mutating func setRegistries(_ registries: [RegistryLocation]) {
        set(
            Self.registriesKey,
            registries.isEmpty ? nil : YAMLNode(.sequence(registries.map { .string($0.url.absoluteString) })))
    }

    /// Seconds a cached index is used before it is revalidated.
    public func registryMaxAge() throws -> TimeInterval {
        guard let node = self[Self.registryMaxAgeKey], !node.isNull else { return Self.defaultRegistryMaxAge }
        guard let text = node.scalar, let seconds = Double(text), seconds >= 0 else {
            throw YAMLError(
                file: file.path, mark: node.mark, message: "\"registry_max_age\" must be a number of seconds")
        }
        return seconds
    }
}
