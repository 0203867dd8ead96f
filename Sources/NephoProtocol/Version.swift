/// Versions of nepho and of its wire protocol.
public enum NephoVersion {
    /// The release, printed by `--version`.
    public static let current = "0.1.0"
}
