/// Lets every `noun:verb` command also be typed as `noun verb`.
public enum CommandLineSpelling {
    /// Nouns whose commands are spelled `noun:verb`.
    public static let nouns: Set<String> = [
        "cloudlet", "scenario", "parameter", "formation", "daemon", "registry",
    ]

    /// Joins a leading `noun verb` into `noun:verb`; leaves everything else alone.
    public static func normalize(_ arguments: [String]) -> [String] {
        guard arguments.count >= 2, nouns.contains(arguments[0]), !arguments[1].hasPrefix("-")
        else { return arguments }
        return ["\(arguments[0]):\(arguments[1])"] + arguments.dropFirst(2)
    }
}
