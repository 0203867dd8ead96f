/// The one rule for a formation's name, whatever its provider: ASCII letters, digits
/// and hyphens, starting with a letter, at most 100 characters. Such a name is a valid
/// CloudFormation stack name and a safe folder and Vagrant machine name (docs/formations.md).
public enum FormationName {
    public static let maximumLength = 100

    /// Why `name` cannot name a formation, or nil when it can.
    public static func problem(_ name: String) -> String? {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        guard allowed, let first = name.first, first.isLetter, name.count <= maximumLength else {
            return
                "\"\(name)\" is not a valid formation name: use letters, digits and hyphens, starting with a letter (at most \(maximumLength))"
        }
        return nil
    }
}
