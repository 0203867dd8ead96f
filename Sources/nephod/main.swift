import NephoDaemon
import NephoEngine

await Nephod.main(arguments: Array(CommandLine.arguments.dropFirst())) { paths in LocalAPI(paths: paths) }
