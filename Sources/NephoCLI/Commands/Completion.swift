import ArgumentParser
import Foundation
import NephoClient
import NephoProtocol
import NephoSupport

extension Nepho {
    struct Completion: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "completion",
            abstract: "Print a shell completion script (bash, zsh or fish).",
            discussion: """
                bash: nepho completion bash > /etc/bash_completion.d/nepho
                zsh:  nepho completion zsh > "${fpath[1]}/_nepho"
                fish: nepho completion fish > ~/.config/fish/completions/nepho.fish
                Cloudlet and scenario names complete from the installed cloudlets.
                """)

        @Argument(help: "bash, zsh or fish.")
        var shell: String

        func validate() throws {
            guard CompletionShell(rawValue: shell) != nil else {
                throw ValidationError("unknown shell \"\(shell)\": choose bash, zsh or fish")
            }
        }

        /// bash: the shortcuts (`create`, `destroy`, `open`, `ssh`) complete as the
        /// `formation:` command they stand for, `noun verb` as `noun:verb`, and `noun `
        /// offers that noun's verbs.
        static var bashSpellings: String {
            let shortcuts = CommandLineSpelling.shortcuts.keys.sorted().joined(separator: "|")
            let nouns = CommandLineSpelling.nouns.sorted()
            let verbs = verbCases
            let shortcutWords = CommandLineSpelling.shortcuts.keys.sorted().joined(separator: " ")
            return """

                # nepho's other spellings complete as the commands they stand for.
                _nepho_spellings() {
                    local -a spelled=("${COMP_WORDS[@]}")
                    local line="${COMP_LINE}" word="${COMP_WORDS[1]}" verbs=''
                    case "${word}" in
                    \(shortcuts))
                        spelled[1]="formation:${word}"
                        line="${line/${word}/formation:${word}}" ;;
                    \(nouns.joined(separator: "|")))
                        case "${word}" in
                \(verbs.joined(separator: "\n"))
                        esac
                        if (( COMP_CWORD == 2 )); then
                            COMPREPLY=($(compgen -W "${verbs}" -- "${COMP_WORDS[2]}"))
                            return
                        fi
                        if (( COMP_CWORD > 2 )); then
                            spelled=("${COMP_WORDS[0]}" "${word}:${COMP_WORDS[2]}" "${COMP_WORDS[@]:3}")
                            line="${line/${word}+([[:space:]])${COMP_WORDS[2]}/${word}:${COMP_WORDS[2]}}"
                        fi ;;
                    esac
                    local cword=$((COMP_CWORD - ${#COMP_WORDS[@]} + ${#spelled[@]}))
                    local point=$((COMP_POINT + ${#line} - ${#COMP_LINE}))
                    local -a COMP_WORDS=("${spelled[@]}")
                    local COMP_CWORD="${cword}" COMP_POINT="${point}" COMP_LINE="${line}"
                    _nepho "${@}"
                    if (( COMP_CWORD == 1 )); then
                        COMPREPLY+=($(compgen -W '\(shortcutWords)' -- "${COMP_WORDS[1]}"))
                    fi
                    return 0
                }

                # Only files and folders are completed as file names (bash then shows their last
                # part): nepho's names are listed whole, once (`acme/static/default`, not
                # `default`), whatever the current folder holds.
                __nepho_add_completions() {
                    [[ "${1}" = -d || "${1}" = -f ]] && compopt -o filenames 2>/dev/null
                    local completion
                    while IFS='' read -r completion; do
                        COMPREPLY+=("${completion}")
                    done < <(IFS=$'\\n' compgen "${@}" -- "${cur}")
                }
                complete -F _nepho_spellings nepho

                """
        }

        /// `NOUN) verbs='…' ;;` for each noun, for a shell `case`.
        static var verbCases: [String] {
            var commands: [String] = []
            for command in Nepho.configuration.subcommands {
                if let name = command.configuration.commandName { commands.append(name) }
            }
            var cases: [String] = []
            for noun in CommandLineSpelling.nouns.sorted() {
                let names = commands.filter { $0.hasPrefix(noun + ":") }.map { $0.dropFirst(noun.count + 1) }
                cases.append("            \(noun)) verbs='\(names.joined(separator: " "))' ;;")
            }
            return cases
        }

        /// zsh: as `bashSpellings`, a wrapper around the generated `_nepho` that rewrites
        /// `words` before it runs; it replaces the script's last lines, which call (or
        /// register) `_nepho` itself.
        static func zshSpellings(_ script: String) -> String {
            let tail = """
                if [[ "${funcstack[1]}" = _nepho ]]; then
                    _nepho "${@}"
                else
                    compdef _nepho nepho
                fi
                """
            guard let range = script.range(of: tail, options: .backwards) else { return script }
            let shortcuts = CommandLineSpelling.shortcuts.keys.sorted().joined(separator: "|")
            let nouns = CommandLineSpelling.nouns.sorted().joined(separator: "|")
            let zshShortcuts = CommandLineSpelling.shortcuts.sorted { $0.key < $1.key }.map {
                "'\($0.key):Shortcut for \($0.value).'"
            }.joined(separator: " ")
            let wrapper = """
                # nepho's other spellings complete as the commands they stand for.
                _nepho_spellings() {
                    local verbs=''
                    case "${words[2]}" in
                    \(shortcuts))
                        words[2]="formation:${words[2]}" ;;
                    \(nouns))
                        case "${words[2]}" in
                \(verbCases.joined(separator: "\n"))
                        esac
                        if (( CURRENT == 3 )); then
                            compadd -- ${=verbs}
                            return
                        fi
                        if (( CURRENT > 3 )); then
                            words=("${words[1]}" "${words[2]}:${words[3]}" "${(@)words[4,-1]}")
                            (( CURRENT-- ))
                        fi ;;
                    esac
                    if (( CURRENT == 2 )); then
                        local -a shortcuts=(\(zshShortcuts))
                        _describe -t shortcuts shortcut shortcuts
                    fi
                    _nepho "${@}"
                }

                if [[ "${funcstack[1]}" = _nepho ]]; then
                    # Autoloaded as _nepho, which now names the generated function: the wrapper
                    # takes its place for the next completions too.
                    compdef _nepho_spellings nepho
                    _nepho_spellings "${@}"
                else
                    compdef _nepho_spellings nepho
                fi
                """
            return script.replacingCharacters(in: range, with: wrapper)
        }

        /// fish: the generated script reads the command line through `__nepho_tokens`; a
        /// wrapper gives it the shortcuts as `formation:…` and `noun verb` as `noun:verb`, so
        /// that every condition and nepho's own completion call see the command they stand
        /// for. After a noun its verbs are offered (with their summaries) instead of commands.
        static var fishSpellings: String {
            let shortcuts = CommandLineSpelling.shortcuts.keys.sorted()
            let nouns = CommandLineSpelling.nouns.sorted()
            var cases: [String] = []
            for noun in nouns {
                var lines: [String] = []
                for command in Nepho.configuration.subcommands {
                    let configuration = command.configuration
                    guard let name = configuration.commandName, name.hasPrefix(noun + ":") else { continue }
                    let verb = name.dropFirst(noun.count + 1)
                    lines.append(fishQuoted("\(verb)\t\(configuration.abstract)"))
                }
                cases.append("    case \(noun)\n        string join \\n -- \(lines.joined(separator: " "))")
            }
            var shortcutLines: [String] = []
            for shortcut in shortcuts {
                let command = CommandLineSpelling.shortcuts[shortcut]!
                shortcutLines.append(
                    "complete -c nepho -n '__nepho_should_offer_completions_for_positional \"nepho\" -eq 1' "
                        + "-fa \(shortcut) -d \(fishQuoted("Shortcut for \(command)."))")
            }
            return """

                # nepho's other spellings complete as the commands they stand for.
                functions -c __nepho_tokens __nepho_typed_tokens
                function __nepho_tokens
                    set -l tokens (__nepho_typed_tokens $argv)
                    if string match -q -- '-p*' $argv[1]
                        switch "$tokens[2]"
                        case \(shortcuts.joined(separator: " "))
                            set tokens[2] formation:$tokens[2]
                        case \(nouns.joined(separator: " "))
                            if set -q tokens[3]; and not string match -q -- '-*' $tokens[3]
                                set tokens $tokens[1] $tokens[2]:$tokens[3] $tokens[4..]
                            end
                        end
                    end
                    string join \\n -- $tokens
                end

                # After a noun, its verbs (and not the commands).
                function __nepho_verbs
                    set -l tokens (__nepho_typed_tokens -pc)
                    test (count $tokens) -eq 2; or return 1
                    switch "$tokens[2]"
                \(cases.joined(separator: "\n"))
                    case '*'
                        return 1
                    end
                end
                functions -c __nepho_should_offer_completions_for_positional __nepho_generated_offer_for_positional
                function __nepho_should_offer_completions_for_positional
                    test "$argv[1]" = nepho; and __nepho_verbs >/dev/null; and return 1
                    __nepho_generated_offer_for_positional $argv
                end
                complete -c nepho -n '__nepho_verbs >/dev/null' -fa '(__nepho_verbs)'
                \(shortcutLines.joined(separator: "\n"))

                """
        }

        /// `text` as a fish single-quoted string.
        static func fishQuoted(_ text: String) -> String {
            "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                + "'"
        }

        func run() throws {
            var script = Nepho.completionScript(for: CompletionShell(rawValue: shell)!)
            if shell == "zsh" { script = Self.zshSpellings(script) }
            if shell == "fish" { script += Self.fishSpellings }
            if shell == "bash" {
                // bash splits words at ":" by default, which would cut `cloudlet:list` in two.
                script += "\nCOMP_WORDBREAKS=${COMP_WORDBREAKS//:}\n" + Self.bashSpellings
            }
            print(script, terminator: "")
        }
    }
}

/// Completion candidates: the installed cloudlets and their scenarios, asked of nephod
/// (`cloudlet.list`, `scenario.list`) as any command asks, so that they are the ones the
/// daemon builds from. A blocking client: completion functions are synchronous. No daemon
/// to be had: no candidates.
enum Completions {
    @Sendable static func cloudlets(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let client = client(arguments) else { return [] }
        return installed(client).filter { $0.hasPrefix(prefix) }
    }

    @Sendable static func scenarios(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let client = client(arguments) else { return [] }
        return installed(client).flatMap { name -> [String] in
            // Only the cloudlets the prefix may still name are asked for their scenarios.
            guard name.hasPrefix(prefix) || prefix.hasPrefix(name + "/") else { return [] }
            let scenarios = (try? client.request(API.scenarioList, CloudletRef(name: name)))?.scenarios ?? []
            return [name] + scenarios.map { "\(name)/\($0.name)" }
        }.filter { $0.hasPrefix(prefix) }.uniqued()
    }

    /// nepho's formations (from `state.db` only: no provider is asked while a shell waits).
    @Sendable static func formations(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        let listing = try? client(arguments)?.request(
            API.formationList, FormationListParams(recordedOnly: true))
        return (listing?.formations ?? []).map(\.name).filter { $0.hasPrefix(prefix) }
    }

    /// The nanny the command being typed would ask: `--host` on its line, else `NEPHO_HOST`,
    /// else the default host, else this machine's (docs/remote.md). nil: a host that cannot be
    /// resolved (no candidates then).
    static func client(_ arguments: [String]) -> DaemonClient? {
        var option: String?
        for (index, word) in arguments.enumerated() {
            if word == "--host", index + 1 < arguments.count { option = arguments[index + 1] }
            if word.hasPrefix("--host=") { option = String(word.dropFirst("--host=".count)) }
        }
        let environment = ProcessInfo.processInfo.environment
        do {
            let remote = try HostSettings.resolve(
                option: option, environment: environment, config: NephoPaths(environment: environment).config)
            // ssh may not prompt while a shell waits: a host that needs a password (or is
            // unreachable) gives no candidates rather than a hung shell.
            return remote.map { DaemonClient(host: $0, batch: true) } ?? DaemonClient()
        } catch {
            return nil
        }
    }

    /// The cloudlets the registries list, as the cache holds them (`cloudlet:install`): no
    /// registry is asked while a shell waits.
    @Sendable static func registryCloudlets(_ arguments: [String], _ index: Int, _ prefix: String) -> [String]
    {
        let result = try? client(arguments)?.request(
            API.registrySearch, RegistrySearchParams(query: "", cachedOnly: true))
        return (result?.hits ?? []).map(\.name).filter { $0.hasPrefix(prefix) }.uniqued()
    }

    /// The parameters set in `params.yaml` (`parameter:get`, `parameter:unset`).
    @Sendable static func parameters(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        let listing = try? client(arguments)?.request(API.parameterList, NoParams())
        return (listing?.parameters ?? []).map(\.key).filter { $0.hasPrefix(prefix) }
    }

    /// The names of the usable, unshadowed installed cloudlets, each once.
    private static func installed(_ client: DaemonClient) -> [String] {
        let listing = try? client.request(API.cloudletList, NoParams())
        return (listing?.directories ?? []).flatMap(\.cloudlets).filter {
            $0.shadowedBy == nil && $0.problem == nil
        }
        .map(\.name).uniqued()
    }
}

extension Array where Element == String {
    /// The strings in order, each once: a scenario (`acme` with its scenario `static`) and a
    /// cloudlet (`acme/static`) can be spelled alike, and a shell would list both.
    func uniqued() -> [String] {
        var seen: Set<String> = []
        return filter { seen.insert($0).inserted }
    }
}
