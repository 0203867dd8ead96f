// nepho-bench-aws: times nepho's CloudFormation client making COUNT rounds of
// DescribeStacks + DescribeStackEvents for one stack. Used by bench/aws-calls, which
// runs the same calls with the AWS CLI. Configuration comes from the AWS_* environment.
import Foundation
import NephoAWS
import NephoHTTP

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2, let count = Int(arguments.last!) else {
    FileHandle.standardError.write(Data("usage: nepho-bench-aws STACK COUNT\n".utf8))
    exit(2)
}
let stack = arguments.first!
do {
    let session = AWSSession(configuration: try AWSConfiguration.resolve())
    let client = try session.cloudFormation()
    let start = DispatchTime.now().uptimeNanoseconds
    var events = 0
    for _ in 0..<count {
        _ = try await client.describeStacks(stack)
        events += try await client.describeStackEvents(stack).count
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(String(format: "%.3f", seconds))
    FileHandle.standardError.write(Data("nepho: \(count * 2) calls, \(events) events read\n".utf8))
} catch {
    FileHandle.standardError.write(Data("nepho-bench-aws: \(error)\n".utf8))
    exit(1)
}
