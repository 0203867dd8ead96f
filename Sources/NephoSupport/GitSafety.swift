import Foundation

/// Checks on values nepho passes to git besides URLs.
public enum GitSafety {
    /// A tag or branch name: no leading '-', no white space or control characters, no '..'.
    public static func checkReference(_ reference: String) throws {
        let bad =
            reference.isEmpty || reference.hasPrefix("-") || reference.contains("..")
            || reference.unicodeScalars.contains {
                $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f
                    || "~^:?*[\\".unicodeScalars.contains($0)
            }
        if bad {
            throw GitError(
                reason: .notStarted("'\(reference)' is not an acceptable tag or branch name"),
                command: ["git"],
                output: "")
        }
    }

    /// Arguments that would change what git runs or where it connects; refused anywhere
    /// in an argument list (`--upload-pack=…`, `-u …`, `--config=…`, `--template=…`).
    public static func checkArguments(_ arguments: [String]) throws {
        let dangerous = [
            "--upload-pack", "--receive-pack", "--exec", "-u", "--config", "-c", "--template",
            "--separate-git-dir",
        ]
        var afterSeparator = false
        for argument in arguments {
            if argument == "--" {
                afterSeparator = true
                continue
            }
            if afterSeparator { continue }
            for option in dangerous
            where argument == option || argument.hasPrefix(option + "=")
                || (option.count == 2 && argument.hasPrefix(option) && option != "-c")
            {
                throw GitError(
                    reason: .notStarted("the argument '\(argument)' is not allowed"),
                    command: ["git"] + arguments,
                    output: "")
            }
        }
    }
}
