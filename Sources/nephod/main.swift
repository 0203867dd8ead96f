import NephoDaemon
import NephoProtocol

await Nephod.main(arguments: Array(CommandLine.arguments.dropFirst())) { _ in UnavailableEngine() }
