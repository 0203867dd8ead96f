import ArgumentParser

/// The grouped help of the roadmap's usage text: `nepho help` (and `nepho --help`)
/// lists the configuration commands, the shortcuts and each noun's verbs;
/// `nepho help NOUN` and `nepho NOUN --help` list one noun's verbs; `nepho help VERB`
/// shows that command's own help, shortcuts included.
public enum CommandHelp {
    /// A group of commands: a noun and what its commands are for.
    struct Group {
        var noun: String
        var title: String
        var summary: String
    }

    static let groups: [Group] = [
        Group(noun: "cloudlet", title: "Cloudlet commands", summary: "find, download, and manage cloudlets"),
        Group(
            noun: "scenario", title: "Scenario commands",
            summary: "view and manage cloudlet deployment scenarios"),
        Group(
            noun: "formation", title: "Formation commands", summary: "create and manage cloudlet instances"),
        Group(noun: "parameter", title: "Parameter commands", summary: "your values for scenario parameters"),
        Group(noun: "registry", title: "Registry commands", summary: "publish cloudlets as a registry"),
        Group(noun: "daemon", title: "Daemon commands", summary: "the nephod daemon that runs builds"),
        Group(
            noun: "host", title: "Remote host commands",
            summary: "the nanny on another machine, reached through ssh (--host)"),
        Group(
            noun: "events", title: "Stack event commands",
            summary: "how CloudFormation's stack events reach the nanny"),
    ]

    /// Commands that belong to no noun.
    static let configuration = ["register", "completion"]

    /// What the shortcuts do, as the roadmap words it.
    static let shortcutSummaries: [(String, String)] = [
        ("create", "create a new formation from a scenario"),
        ("destroy", "destroy a running formation"),
        ("open", "open the public URL endpoint for the formation"),
        ("ssh", "connect to the formation's public IP or bastion host"),
    ]

    /// Every command's name and one-line summary, in the order `Nepho` lists them.
    static var commands: [(name: String, abstract: String)] {
        Nepho.configuration.subcommands.map {
            ($0.configuration.commandName ?? "\($0)", $0.configuration.abstract)
        }
    }

    /// What to do with `arguments` (without the program name): help text to print, the
    /// arguments to parse instead (`help create` → `formation:create --help`), or nil
    /// when this is not a help request.
    public enum Request: Equatable {
        case text(String)
        case arguments([String])
        /// `nepho help WORD` for a word that names no command: what to say (a usage error).
        case unknown(String)
    }

    public static func request(_ arguments: [String]) -> Request? {
        let askingHelp: Set<String> = ["--help", "-h"]
        switch arguments.count {
        case 0:
            return .text(overview())
        case 1 where askingHelp.contains(arguments[0]) || arguments[0] == "help":
            return .text(overview())
        case 1 where CommandLineSpelling.nouns.contains(arguments[0]):
            return .text(nounHelp(arguments[0]))
        case 2 where CommandLineSpelling.nouns.contains(arguments[0]) && askingHelp.contains(arguments[1]):
            return .text(nounHelp(arguments[0]))
        case 2 where arguments[0] == "help" && CommandLineSpelling.nouns.contains(arguments[1]):
            return .text(nounHelp(arguments[1]))
        default:
            guard arguments[0] == "help", arguments.count >= 2 else { return nil }
            let command = CommandLineSpelling.normalize(Array(arguments.dropFirst()))
            guard command.count == 1 else { return nil }
            let all = commands.map(\.name) + ["help"]
            if all.contains(command[0]) { return .arguments(command + ["--help"]) }
            // A verb several nouns have (`describe`): the commands it is part of.
            let matching = all.filter { $0.hasSuffix(":" + command[0]) }
            if !matching.isEmpty { return .text(verbHelp(command[0], matching)) }
            return .unknown("no command named \"\(command[0])\": see `nepho help` for the commands")
        }
    }

    /// What is wrong with a command line (normalized) whose first word names no command:
    /// `no command named "formation:lst": formation's verbs are create, watch, list, …`.
    public static func unknownCommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let all = commands.map(\.name) + ["help"]
        guard !all.contains(first) else { return nil }
        let noun = first.split(separator: ":", maxSplits: 1).first.map(String.init) ?? first
        if CommandLineSpelling.nouns.contains(noun) {
            let verbs = all.filter { $0.hasPrefix(noun + ":") }.map { $0.dropFirst(noun.count + 1) }
            return "no command named \"\(first)\": \(noun)'s verbs are \(verbs.joined(separator: ", "))"
        }
        return "no command named \"\(first)\": see `nepho help` for the commands"
    }

    /// The commands of several nouns that share `verb`.
    static func verbHelp(_ verb: String, _ names: [String]) -> String {
        let width = (names.map(\.count) + [12]).max()! + 2
        var text = "\(verb) is a verb of \(names.count == 1 ? "one noun" : "several nouns"):\n"
        for command in commands where names.contains(command.name) {
            text += "  " + command.name + String(repeating: " ", count: max(2, width - command.name.count))
            text += command.abstract + "\n"
        }
        text += "\nSee `nepho help NOUN:\(verb)` for a command's arguments and options.\n"
        return text
    }

    /// The whole command set, grouped.
    static func overview() -> String {
        let all = commands
        let width = (all.map(\.name.count) + [12]).max()! + 2
        func row(_ name: String, _ text: String) -> String {
            "  " + name + String(repeating: " ", count: max(2, width - name.count)) + text + "\n"
        }
        var text = """
            \(Nepho.configuration.abstract)

            Usage: nepho <command> [<args>...]
                   nepho <noun> <verb> [<args>...]


            """
        text += "Configuration commands:\n"
        for name in configuration {
            if let command = all.first(where: { $0.name == name }) { text += row(name, command.abstract) }
        }
        text += "\nShortcut commands:\n"
        for (name, summary) in shortcutSummaries { text += row(name, summary) }
        text += "\nSubcommands, use `nepho help NOUN` to learn more:\n"
        for group in groups { text += row(group.noun, group.summary) }
        for group in groups {
            text += "\n\(group.title):\n"
            for command in all where command.name.hasPrefix(group.noun + ":") {
                text += row(command.name, command.abstract)
            }
        }
        text += """

            Global options, before or after the command: -o text|json|yaml, --foreground, --no-autostart,
            --host ssh://[USER@]HOST[:PORT] (or NEPHO_HOST), --forward-credentials.
            See `nepho help COMMAND` (or `nepho COMMAND --help`) for a command's arguments and options.

            """
        return text
    }

    /// One noun's verbs.
    static func nounHelp(_ noun: String) -> String {
        let group = groups.first { $0.noun == noun }
        let verbs = commands.filter { $0.name.hasPrefix(noun + ":") }
        let width = (verbs.map(\.name.count) + [12]).max()! + 2
        var text = "nepho \(noun): \(group?.summary ?? "")\n\n"
        text += "Usage: nepho \(noun):VERB [<args>...]\n       nepho \(noun) VERB [<args>...]\n\n"
        text += "\(group?.title ?? "Commands"):\n"
        for verb in verbs {
            text +=
                "  " + verb.name + String(repeating: " ", count: max(2, width - verb.name.count))
                + verb.abstract + "\n"
        }
        let shortcuts = shortcutSummaries.filter {
            CommandLineSpelling.shortcuts[$0.0]?.hasPrefix(noun + ":") == true
        }
        if !shortcuts.isEmpty {
            text += "\nShortcuts:\n"
            for (name, _) in shortcuts {
                let target = CommandLineSpelling.shortcuts[name]!
                text +=
                    "  " + name + String(repeating: " ", count: max(2, width - name.count))
                    + "same as nepho \(target)\n"
            }
        }
        text += "\nSee `nepho help \(noun):VERB` for a command's arguments and options.\n"
        return text
    }
}
