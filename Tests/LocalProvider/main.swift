import NephoEngine
import NephodProgram

// nephod with one more provider, `local` (ScriptDriver): the whole daemon, its monitor
// host and monitors, built for the tests (LocalProviderEndToEndTests).
await NephodProgram.main(providers: ProviderRegistry.standard.adding(ScriptDriver()))
