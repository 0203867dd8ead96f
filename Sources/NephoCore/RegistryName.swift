/// Rules for cloudlet names from registries (`owner/name`, and `CloudletName`'s rules) and for the folder names
/// cloudlets are installed under, so that no name can escape a cloudlet directory.
public enum RegistryName {
    /// Why `name` is not a valid `owner/name`, or nil when it is.
    public static func problem(_ name: String) -> String? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "'\(name)' must be owner/name (exactly one '/')" }
        return CloudletName.problem(name)
    }

    /// Why `folder` cannot be a cloudlet's folder name, or nil when it can: 1 to 100 of
    /// letters, digits, '.', '_' and '-', starting with a letter or digit (so never '.'
    /// or '..', never hidden, never an option, never a path).
    public static func folderProblem(_ folder: String) -> String? {
        if folder.isEmpty { return "a name part is empty" }
        if folder.utf8.count > 100 { return "'\(folder.prefix(20))…' is longer than 100 characters" }
        let bytes = Array(folder.utf8)
        func isAlphanumeric(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
        }
        if !isAlphanumeric(bytes[0]) { return "'\(folder)' must start with a letter or digit" }
        if !bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }) {
            return "'\(folder)' may only hold letters, digits, '.', '_' and '-'"
        }
        return nil
    }
}
