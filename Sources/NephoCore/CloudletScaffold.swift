import Foundation
import NephoSupport

/// `cloudlet:create`: a new cloudlet folder that passes `cloudlet:validate` and
/// cfn-lint, ready to edit: metadata, a default scenario, a single-host pattern and a
/// bootstrap script.
public enum CloudletScaffold {
    /// Creates `name` inside `directory`; refuses when the folder exists. The files
    /// appear all at once (built in a hidden folder, then renamed).
    public static func create(name: String, in directory: URL) throws -> (folder: URL, files: [String]) {
        if let problem = CloudletName.problem(name) { throw CloudletError(.invalid, problem) }
        let folder = directory.appendingPathComponent(CloudletName.folderName(name))
        if FileManager.default.fileExists(atPath: folder.path) {
            throw CloudletError(.conflict, "\(folder.path) already exists: choose another name or --dir")
        }
        let staging = directory.appendingPathComponent(
            ".create-\(CloudletName.folderName(name))-\(UUID().uuidString)")
        let files = files(name: name)
        do {
            for (path, text) in files {
                let url = staging.appendingPathComponent(path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
                if path.hasSuffix(".sh") {
                    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
                }
            }
            try FileManager.default.moveItem(at: staging, to: folder)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw CloudletError(.io, "cannot create \(folder.path): \(SystemError.reason(error))")
        }
        return (folder, files.map(\.0))
    }

    static func files(name: String) -> [(String, String)] {
        let short = CloudletName.shortName(name)
        return [
            (
                "cloudlet.yaml",
                """
                name: \(name)
                version: 0.1.0
                source: https://example.com/\(short).git
                author: Your Name <you@example.com>
                license: Apache-2.0
                summary: One line about what \(short) deploys
                description: |
                  What this cloudlet builds, who it is for, and what it costs to run.
                project_page: https://example.com/\(short)
                keywords:
                  - example

                """
            ),
            (
                "scenarios/default.yaml",
                """
                summary: a single host
                description: One Amazon Linux 2023 instance provisioned by provisioners/bootstrap.sh.
                provider: aws
                pattern: aws/single-host.cf
                provisioner: bootstrap.sh
                parameters:
                  InstanceType:
                    default: t3.micro
                    description: EC2 instance type
                    allowed: [t3.micro, t3.small, t3.medium]
                  SSHLocation:
                    default: 127.0.0.1/32
                    description: The address range allowed to reach port 22, in CIDR form

                """
            ),
            ("patterns/aws/single-host.cf", singleHostTemplate),
            (
                "provisioners/bootstrap.sh",
                """
                #!/usr/bin/env bash
                # Runs once on the new host as root. Print NEPHO_PHASE lines to report progress.
                set -euo pipefail
                echo "NEPHO_PHASE 1/2 installing packages"
                dnf install -y nginx
                echo "NEPHO_PHASE 2/2 starting services"
                systemctl enable --now nginx

                """
            ),
            (
                "README.md",
                """
                # \(name)

                Created by `nepho cloudlet:create`. Edit `cloudlet.yaml`, the scenarios under
                `scenarios/`, the CloudFormation patterns under `patterns/aws/` and the bootstrap
                script under `provisioners/`, then check it with `nepho cloudlet:validate`.

                """
            ),
        ]
    }

    static let singleHostTemplate = """
        AWSTemplateFormatVersion: "2010-09-09"
        Description: A single Amazon Linux 2023 host
        Parameters:
          InstanceType:
            Type: String
            Default: t3.micro
            AllowedValues: [t3.micro, t3.small, t3.medium]
            Description: EC2 instance type
          SSHLocation:
            Type: String
            Default: 127.0.0.1/32
            AllowedPattern: '(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})'
            Description: The address range allowed to reach port 22
          LatestAmiId:
            Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
            Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
        Resources:
          HostSecurityGroup:
            Type: AWS::EC2::SecurityGroup
            Properties:
              GroupDescription: SSH and HTTP to the host
              SecurityGroupIngress:
                - IpProtocol: tcp
                  FromPort: 22
                  ToPort: 22
                  CidrIp: !Ref SSHLocation
                - IpProtocol: tcp
                  FromPort: 80
                  ToPort: 80
                  CidrIp: 0.0.0.0/0
          HostLaunchTemplate:
            Type: AWS::EC2::LaunchTemplate
            Properties:
              LaunchTemplateData:
                MetadataOptions:
                  HttpTokens: required
                BlockDeviceMappings:
                  - DeviceName: /dev/xvda
                    Ebs:
                      Encrypted: true
                      VolumeSize: 8
                      VolumeType: gp3
          Host:
            Type: AWS::EC2::Instance
            Properties:
              ImageId: !Ref LatestAmiId
              InstanceType: !Ref InstanceType
              LaunchTemplate:
                LaunchTemplateId: !Ref HostLaunchTemplate
                Version: !GetAtt HostLaunchTemplate.LatestVersionNumber
              SecurityGroupIds:
                - !GetAtt HostSecurityGroup.GroupId
        Outputs:
          URL:
            Description: The host's web page
            Value: !Sub "http://${Host.PublicDnsName}/"
          SSHEndpoint:
            Description: The host's public name
            Value: !GetAtt Host.PublicDnsName
          SSHUser:
            Value: ec2-user

        """
}
