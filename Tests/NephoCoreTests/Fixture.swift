import Foundation

/// A temporary folder with files written into it; removed when the test ends.
final class Fixture {
    let root: URL

    init() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes each path → text under the root (creating folders) and returns the root.
    @discardableResult
    func write(_ files: [String: String], under folder: String = "") -> URL {
        let base = folder.isEmpty ? root : root.appendingPathComponent(folder)
        for (path, text) in files {
            let url = base.appendingPathComponent(path)
            try! FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try! Data(text.utf8).write(to: url)
        }
        return base
    }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    func read(_ path: String) -> String { (try? String(contentsOf: url(path), encoding: .utf8)) ?? "" }

    /// A small valid cloudlet: cloudlet.yaml, a default scenario and a YAML pattern.
    static func cloudlet(name: String = "demo", version: String = "1.0.0") -> [String: String] {
        [
            "cloudlet.yaml": """
            name: \(name)
            version: \(version)
            summary: a demo cloudlet
            source: https://example.com/\(name).git
            parameters:
              InstanceType:
                default: t3.micro
            """,
            "scenarios/default.yaml": """
            summary: one host
            provider: aws
            pattern: aws/host.cf
            provisioner: bootstrap.sh
            parameters:
              KeyName:
                description: SSH key pair
              Size:
                default: small
                allowed: [small, large]
            """,
            "scenarios/big.yaml": """
            summary: a bigger host
            pattern: aws/host.cf
            parameters:
              KeyName:
                default: ops
              Size:
                default: large
            """,
            "patterns/aws/host.cf": """
            AWSTemplateFormatVersion: "2010-09-09"
            Parameters:
              InstanceType:
                Type: String
                Default: t2.nano
              KeyName:
                Type: String
              Size:
                Type: String
              DBPassword:
                Type: String
                NoEcho: true
                Default: hunter2
            Resources:
              Bucket:
                Type: AWS::S3::Bucket
            """,
            "provisioners/bootstrap.sh": "#!/bin/sh\necho NEPHO_PHASE 1/1 done\n",
        ]
    }
}
