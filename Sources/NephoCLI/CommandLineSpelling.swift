/// Lets every `noun:verb` command also be typed as `noun verb`.
public enum CommandLineSpelling {
    /// Nouns whose commands are spelled `noun:verb`.
    public static let nouns: Set<String> = [
        "cloudlet", "scenario", "parameter", "formation", "daemon", "registry", "events", "host",
    ]

    /// The roadmap's shortcuts: `nepho create …` is `nepho formation:create …`.
    public static let shortcuts: [String: String] = [
        "create": "formation:create", "destroy": "formation:destroy", "open": "formation:open",
        "ssh": "formation:ssh",
    ]

    /// Options every command takes, and whether each is followed by a value.
    public static let globalOptions: [String: Bool] = [
        "-o": true, "--output": true, "--foreground": false, "--no-autostart": false, "--host": true,
        "--forward-credentials": false,
    ]

    /// Joins a leading `noun verb` into `noun:verb`, and moves global options typed
    /// before the command (`nepho -o json formation:list`) to just after it; leaves
    /// everything else alone.
    public static func normalize(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            let option = first.split(separator: "=", maxSplits: 1).first.map(String.init) ?? first
            if let takesValue = globalOptions[option] {
                leading.append(first)
                rest = rest.dropFirst()
                if takesValue, option == first, let value = rest.first {
                    leading.append(value)
                    rest = rest.dropFirst()
                }
            } else {
                break
            }
        }
        let command = bareChart(joined(Array(rest)))
        guard !leading.isEmpty, let name = command.first, !name.hasPrefix("-") else {
            return leading + command
        }
        return [name] + leading + command.dropFirst()
    }

    /// `formation:logs NAME --chart` without a kind is `--chart terminal`.
    static func bareChart(_ arguments: [String]) -> [String] {
        guard arguments.first == "formation:logs" else { return arguments }
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return result + arguments[index...] }
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            if argument == "--chart", next != "terminal", next != "html" {
                result.append("--chart=terminal")
            } else {
                result.append(argument)
            }
        }
        return result
    }

    static func joined(_ arguments: [String]) -> [String] {
        if let first = arguments.first, let command = shortcuts[first] {
            return [command] + arguments.dropFirst()
        }
        guard arguments.count >= 2, nouns.contains(arguments[0]), !arguments[1].hasPrefix("-")
        else { return arguments }
        return ["\(arguments[0]):\(arguments[1])"] + arguments.dropFirst(2)
    }
}
