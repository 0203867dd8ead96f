import Foundation
import NephoCore
import NephoSupport
import Testing

@Suite struct ParameterResolverTests {
    func resolver(user: [String: String] = [:], commandLine: [String: String] = [:]) throws
        -> ParameterResolver
    {
        let fixture = Fixture()
        let folder = fixture.write(Fixture.cloudlet(), under: "demo")
        let cloudlet = try Cloudlet.open(folder)
        let scenario = try cloudlet.scenario("default")
        var problems: [CloudletProblem] = []
        let template = CloudFormationTemplate.read(
            folder.appendingPathComponent("patterns/aws/host.cf"), problems: &problems)!
        return ParameterResolver(
            template: template.parameters, cloudlet: cloudlet.manifest.parameters,
            scenario: scenario.parameters,
            user: user, commandLine: commandLine)
    }

    @Test func eachValueComesFromTheHighestLayerThatGivesOne() throws {
        let values = try resolver(user: ["Size": "large", "Unrelated": "x"], commandLine: ["KeyName": "ops"])
            .resolve()
        let byName = Dictionary(uniqueKeysWithValues: values.map { ($0.name, $0) })
        #expect(values.map(\.name) == ["InstanceType", "KeyName", "Size", "DBPassword"])
        #expect(byName["InstanceType"]?.value == "t3.micro")
        #expect(byName["InstanceType"]?.source == .cloudlet)
        #expect(byName["Size"]?.value == "large")
        #expect(byName["Size"]?.source == .user)
        #expect(byName["KeyName"]?.source == .commandLine)
        #expect(byName["DBPassword"]?.source == .template)
        #expect(byName["DBPassword"]?.secret == true)
        #expect(byName["KeyName"]?.description == "SSH key pair")
    }

    @Test func missingRequiredValuesAreListedTogether() throws {
        #expect {
            _ = try resolver().resolve(asking: nil)
        } throws: { error in
            let failure = error as! ParameterError
            return failure.message == "missing required parameter: KeyName"
                && failure.details == [
                    "KeyName: SSH key pair (give it with -p KeyName=VALUE or `nepho parameter:set KeyName VALUE`)"
                ]
        }
    }

    @Test func promptsFillMissingValuesAndRepeatUntilAllowed() throws {
        var asked: [String] = []
        var answers = ["nope", "mykey"]
        let values = try resolver(commandLine: ["Size": "small"]).resolve(asking: { parameter in
            asked.append(parameter.name)
            return answers.removeFirst()
        })
        #expect(asked == ["KeyName", "KeyName"] || asked == ["KeyName"])
        #expect(values.first { $0.name == "KeyName" }?.source == .prompt)
    }

    @Test func unknownCommandLineNamesAreAnError() throws {
        #expect {
            _ = try resolver(commandLine: ["KeyNam": "x"]).resolve()
        } throws: { error in
            let failure = error as! ParameterError
            return failure.message == "unknown parameter KeyNam"
                && failure.details == ["this scenario takes: InstanceType, KeyName, Size, DBPassword"]
        }
    }

    @Test func valuesOutsideTheAllowedOnesAreAnError() throws {
        #expect {
            _ = try resolver(commandLine: ["Size": "huge", "KeyName": "k"]).resolve()
        } throws: { error in
            (error as! ParameterError).details == [
                "Size: \"huge\" (from the command-line layer) is not one of: small, large"
            ]
        }
    }
}
