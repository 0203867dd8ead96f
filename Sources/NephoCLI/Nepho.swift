import ArgumentParser
import NephoProtocol

/// The `nepho` command: subcommands are named `noun:verb` (`cloudlet:list`) and can
/// also be spelled as two words (`nepho cloudlet list`); see `CommandLineSpelling`.
public struct Nepho: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nepho",
        abstract: "Simplified cloud orchestration tool for constructing virtual data centers.",
        version: NephoVersion.current,
        subcommands: [
            CloudletList.self, CloudletDescribe.self, CloudletCreate.self, CloudletValidate.self,
            CloudletDirs.self,
            ScenarioList.self, ScenarioDescribe.self,
            ParameterList.self, ParameterGet.self, ParameterSet.self, ParameterUnset.self,
            Completion.self,
            Register.self,
            DaemonStatusCommand.self, DaemonStop.self, DaemonLogs.self,
            CloudletSearch.self, CloudletInstall.self, CloudletUpdate.self, CloudletUninstall.self,
            CloudletRegistry.self, RegistryBuild.self,
            FormationCreate.self, FormationWatch.self, FormationList.self, FormationDescribe.self,
            FormationUpdate.self, FormationDestroy.self, FormationCancel.self, FormationOpen.self,
            FormationSSH.self,
            FormationLogs.self,
            EventsStatus.self, EventsRemove.self,
            HostAdd.self, HostList.self, HostRemove.self, HostDefault.self, HostInstall.self,
        ]
    )

    public init() {}

    /// Parses `arguments` (without the program name) after joining two-word spellings;
    /// help requests get the grouped help of `CommandHelp`.
    public static func main(arguments: [String]) async {
        switch CommandHelp.request(arguments) {
        case .text(let text):
            print(text, terminator: "")
        case .arguments(let arguments):
            await main(arguments)
        case .unknown(let message):
            exit(withError: ValidationError(message))
        case nil:
            let normalized = CommandLineSpelling.normalize(arguments)
            if let problem = CommandHelp.unknownCommand(normalized) {
                exit(withError: ValidationError(problem))
            }
            await main(normalized)
        }
    }
}
