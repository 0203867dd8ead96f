/// Lets every `noun:verb` command also be typed as `noun verb`.
public enum CommandLineSpelling {
    /// Nouns whose commands are spelled `noun:verb`.
    public static let nouns: Set<String> = [
        "cloudlet", "scenario", "parameter", "formation", "daemon", "registry",
    ]

    /// The roadmap's shortcuts: `nepho create …` is `nepho formation:create …`.
    public static let shortcuts: [String: String] = [
        "create": "formation:create", "destroy": "formation:destroy", "open": "formation:open",
        "ssh": "formation:ssh",
    ]

    /// Joins a leading `noun verb` into `noun:verb`; leaves everything else alone.
    public static func normalize(_ arguments: [String]) -> [String] {
        if let first = arguments.first, let command = shortcuts[first] {
            return [command] + arguments.dropFirst()
        }
        guard arguments.count >= 2, nouns.contains(arguments[0]), !arguments[1].hasPrefix("-")
        else { return arguments }
        return ["\(arguments[0]):\(arguments[1])"] + arguments.dropFirst(2)
    }
}
