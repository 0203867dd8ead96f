import Foundation
import NephoCore
import NephoSupport
import Testing

/// The wait condition the hand-off signals must wait for every phase and the end
/// (docs/provisioners.md): `cloudlet:validate` warns when its Count says otherwise.
@Suite struct ProvisionerPhasesTests {
    @Test func theTotalComesFromPhaseLinesOrATotalAssignment() {
        #expect(ProvisionerPhases.total(in: "echo \"NEPHO_PHASE 1/2 a\"\necho 'NEPHO_PHASE 2/2 b'\n") == 2)
        #expect(
            ProvisionerPhases.total(
                in:
                    "readonly TOTAL=6\nphase() { printf 'NEPHO_PHASE %d/%d %s\\n' \"$1\" \"$TOTAL\" \"$2\"; }\n"
            )
                == 6)
        #expect(ProvisionerPhases.total(in: "#!/usr/bin/env bash\necho hello\n") == 0)
        #expect(ProvisionerPhases.total(in: "echo NEPHO_PHASE 1/2 a\necho NEPHO_PHASE 2/3 b\n") == nil)
        #expect(ProvisionerPhases.total(in: "printf 'NEPHO_PHASE %d/%d %s' 1 \"$n\" x\n") == nil)
    }

    /// A cloudlet whose pattern (YAML or JSON) signals `Wait` from its user data.
    func validate(count: String?, json: Bool = false, phases: Int = 3) -> (Fixture, [CloudletProblem]) {
        let fixture = Fixture()
        var files = Fixture.cloudlet()
        files["scenarios/big.yaml"] = nil
        files["provisioners/bootstrap.sh"] =
            "#!/usr/bin/env bash\n"
            + (1...phases).map { "echo \"NEPHO_PHASE \($0)/\(phases) step \($0)\"\n" }.joined()
        if json {
            let countLine = count.map { ", \"Count\": \($0)" } ?? ""
            files["patterns/aws/host.cf"] = """
                {"AWSTemplateFormatVersion": "2010-09-09",
                 "Parameters": {"KeyName": {"Type": "String"}, "Size": {"Type": "String"}},
                 "Resources": {
                  "Wait": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
                  "Host": {"Type": "AWS::EC2::Instance", "Properties": {"UserData": {"Fn::Base64": {"Fn::Sub": "echo '${Wait}'"}}}},
                  "Done": {"Type": "AWS::CloudFormation::WaitCondition",
                           "Properties": {"Handle": {"Ref": "Wait"}, "Timeout": "600"\(countLine)}}}}

                """
        } else {
            files["patterns/aws/host.cf"] = """
                AWSTemplateFormatVersion: "2010-09-09"
                Parameters:
                  KeyName: {Type: String}
                  Size: {Type: String}
                Resources:
                  Wait:
                    Type: AWS::CloudFormation::WaitConditionHandle
                  Host:
                    Type: AWS::EC2::Instance
                    Properties:
                      UserData: !Base64 {"Fn::Sub": "echo '${Wait}'"}
                  Done:
                    Type: AWS::CloudFormation::WaitCondition
                    Properties:
                      Handle: !Ref Wait
                      Timeout: '600'
                \(count.map { "      Count: \($0)\n" } ?? "")
                """
        }
        let folder = fixture.write(files, under: "demo")
        return (fixture, CloudletValidator().validate(folder))
    }

    @Test func countPhasesPlusOneIsRight() {
        #expect(validate(count: "4").1.isEmpty)
        #expect(validate(count: "4", json: true).1.isEmpty)
    }

    @Test func aCountThatStopsWaitingEarlyIsAWarningAtTheCount() {
        let (fixture, found) = validate(count: "1")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.severity == .warning)
        #expect(found.first?.file == fixture.url("demo/patterns/aws/host.cf").path)
        #expect(found.first?.mark.line == 17)
        #expect(
            found.first?.message.hasPrefix(
                "Done has Count 1, but provisioner bootstrap.sh has 3 phase(s): nepho's hand-off signals each phase and then the end, so Count should be 4; as it is, the stack would go on before the bootstrap has finished"
            ) == true)
        // No Count means 1; JSON patterns are read the same way.
        #expect(validate(count: nil).1.first?.message.hasPrefix("Done has Count 1,") == true)
        #expect(validate(count: "1", json: true).1.first?.message.hasPrefix("Done has Count 1,") == true)
    }

    @Test func aCountBeyondTheSignalsIsAWarningToo() {
        let found = validate(count: "9").1
        #expect(found.count == 1)
        #expect(
            found.first?.message.contains("the stack waits for more signals than one instance sends") == true)
    }

    @Test func aCountFromAParameterIsNotJudged() {
        #expect(validate(count: "!Ref Size").1.isEmpty)
    }
}
