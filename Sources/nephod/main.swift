import NephoProtocol

if CommandLine.arguments.dropFirst().first == "--version" {
    print(NephoVersion.current)
} else {
    print("usage: nephod --version")
}
