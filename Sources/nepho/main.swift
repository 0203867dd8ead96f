import NephoCLI

await Nepho.main(arguments: Array(CommandLine.arguments.dropFirst()))
