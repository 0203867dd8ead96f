import Foundation
import NephoCore
import NephoSupport
import Testing

/// The pure parts of progress and the ETA (docs/formations.md, "Progress and ETA"): the
/// statistics, the dependency graph, the progress count's bounds, the longest remaining path.
@Suite struct BuildEstimateTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func event(
        _ seconds: Double, _ id: String, _ type: String, _ status: String, _ reason: String? = nil
    )
        -> ObservedEvent
    {
        ObservedEvent(
            date: t0.addingTimeInterval(seconds), logicalID: id, resourceType: type, status: status,
            reason: reason)
    }

    static func graph(_ yaml: String, nested: [String: String] = [:]) throws -> ResourceGraph {
        let root = try YAMLParser().parse(yaml)
        return ResourceGraph.from(template: root) { url, _ in
            nested[url].flatMap { try? YAMLParser().parse($0) }
        }
    }

    // MARK: statistics

    @Test func medianAndP90AreRobustToOneSlowBuild() throws {
        let stats = try #require(DurationStats([10, 11, 12, 13, 600]))
        #expect(stats.median == 12)
        #expect(stats.count == 5)
        // Interpolated between the 4th and 5th of five.
        #expect(abs(stats.p90 - (13 + (600 - 13) * 0.6)) < 0.001)
        #expect(DurationStats([]) == nil)
        #expect(DurationStats([7])?.p90 == 7)
    }

    /// Five builds of a type can look steadier than builds are: its p90 leans on the spread
    /// every type of the table shows around its own median.
    @Test func aTypeSeenFewTimesLeansOnTheTablesSharedSpread() throws {
        var steady = DurationTable()
        var varied = DurationTable()
        // The key: five builds within 2 % of 100 s. The other types vary by a third.
        let keySeconds = [99.0, 100, 100.5, 101, 102]
        let others = [60.0, 80, 100, 125, 160]
        for index in 0..<5 {
            let key = [
                Self.event(0, "Key", "AWS::KMS::Key", "CREATE_IN_PROGRESS"),
                Self.event(keySeconds[index], "Key", "AWS::KMS::Key", "CREATE_COMPLETE"),
            ]
            steady.add(build: key, stack: nil)
            var build = key
            for type in ["AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SNS::Topic"] {
                build += [
                    Self.event(0, type, type, "CREATE_IN_PROGRESS"),
                    Self.event(others[(index + type.count) % 5], type, type, "CREATE_COMPLETE"),
                ]
            }
            varied.add(build: build, stack: nil)
        }
        // One type alone: too few deviations to pool (its own spread is all there is).
        #expect(steady.sharedSpread == nil)
        let alone = steady.stats("AWS::KMS::Key", .create).0
        let pooled = varied.stats("AWS::KMS::Key", .create).0
        #expect(alone.median == 100.5 && pooled.median == 100.5)
        #expect(alone.p90 < 104)
        // sigma from the others ≈ 1.4826 × 0.24; with the key's own, p90 ≈ median × e^(1.28 × 0.26).
        #expect(pooled.p90 > 125 && pooled.p90 < 150, "\(pooled)")
        let shared = try #require(varied.sharedSpread)
        #expect(shared > 0.2 && shared < 0.4, "\(shared)")
    }

    @Test func remainingTimeMovesFromMedianToP90ThenBeyond() {
        let stats = DurationStats(count: 5, median: 100, p90: 160)
        // Early: about what is left to the median.
        #expect(abs(stats.remaining(after: 1) - 99) < 0.5)
        #expect(abs(stats.remaining(after: 40) - 60) < 1)
        // At the median: its 75th percentile is the expected end (log-normal, sigma ln 1.6 / 1.2816).
        let sigma = log(1.6) / 1.2815515655
        #expect(abs(stats.remaining(after: 100) - (100 * exp(sigma * 0.6745) - 100)) < 0.5)
        // At the p90: its 95th percentile; past it, beyond.
        #expect(abs(stats.remaining(after: 160) - (100 * exp(sigma * 1.6449) - 160)) < 0.5)
        #expect(100 + stats.remaining(after: 100) < 160 + stats.remaining(after: 160))
        #expect(400 + stats.remaining(after: 400) > 400)
        // No spread: the median, then a quarter of the time so far.
        let flat = DurationStats(count: 3, median: 100, p90: 100)
        #expect(flat.remaining(after: 40) == 60)
        #expect(flat.remaining(after: 200) == 50)
    }

    @Test func spansRunFromInProgressToTheTerminalStatusPerOperation() {
        let events = [
            Self.event(0, "demo", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            Self.event(1, "Bucket", "AWS::S3::Bucket", "CREATE_IN_PROGRESS"),
            Self.event(2, "Bucket", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
            Self.event(31, "Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE"),
            Self.event(40, "Bucket", "AWS::S3::Bucket", "DELETE_IN_PROGRESS"),
            Self.event(45, "Bucket", "AWS::S3::Bucket", "DELETE_COMPLETE"),
        ]
        let spans = ResourceSpan.spans(events, stack: "demo")
        #expect(spans.map(\.operation) == [.create, .delete])
        #expect(spans.map(\.seconds) == [30, 5])
    }

    @Test func theTableLearnsAfterThreeBuildsAndUsesThePriorBefore() {
        var table = DurationTable()
        #expect(table.stats("AWS::RDS::DBInstance", .create).1 == .prior)
        #expect(table.stats("AWS::RDS::DBInstance", .create).0.median == 595)
        #expect(table.stats("Custom::Thing", .create).1 == .guess)
        for seconds in [300.0, 320, 310] {
            table.add(
                build: [
                    Self.event(0, "Db", "AWS::RDS::DBInstance", "CREATE_IN_PROGRESS"),
                    Self.event(seconds, "Db", "AWS::RDS::DBInstance", "CREATE_COMPLETE"),
                    // A failure says nothing of how long the work takes.
                    Self.event(0, "Bad", "AWS::RDS::DBInstance", "CREATE_IN_PROGRESS"),
                    Self.event(5, "Bad", "AWS::RDS::DBInstance", "CREATE_FAILED"),
                ], stack: "demo")
        }
        let (stats, source) = table.stats("AWS::RDS::DBInstance", .create)
        #expect(source == .learned)
        #expect(stats.median == 310)
        #expect(stats.count == 3)
    }

    @Test func thePriorTableIsShippedWithCommonTypes() {
        #expect(PriorDurations.seconds.count > 1000)
        #expect(PriorDurations.seconds["AWS::CloudFront::Distribution"]?[.create] == 266)
        #expect(PriorDurations.seconds["AWS::S3::Bucket"]?[.create] == 30)
    }

    // MARK: graph

    @Test func dependenciesComeFromDependsOnRefGetAttAndSub() throws {
        let graph = try Self.graph(
            """
            Parameters:
              Name: {Type: String}
            Resources:
              Vpc: {Type: AWS::EC2::VPC}
              Subnet:
                Type: AWS::EC2::Subnet
                Properties: {VpcId: !Ref Vpc}
              Group:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  VpcId: {Ref: Vpc}
                  GroupDescription: !Sub '${Name} in ${Subnet.AvailabilityZone} ${!Literal} ${AWS::Region}'
              Host:
                Type: AWS::EC2::Instance
                DependsOn: [Group]
                Properties:
                  SubnetId: !GetAtt Subnet.SubnetId
                  UserData:
                    Fn::Sub:
                      - 'echo ${Local} ${Role}'
                      - Local: {"Fn::GetAtt": [Profile, Arn]}
              Profile: {Type: AWS::IAM::InstanceProfile}
              Role: {Type: AWS::IAM::Role, DependsOn: Vpc}
            """)
        #expect(graph["Vpc"]?.dependsOn == [])
        #expect(graph["Subnet"]?.dependsOn == ["Vpc"])
        #expect(graph["Group"]?.dependsOn == ["Vpc", "Subnet"])
        #expect(graph["Host"]?.dependsOn == ["Group", "Subnet", "Profile", "Role"])
        #expect(graph["Role"]?.dependsOn == ["Vpc"])
        #expect(graph.totalResources == 6)
    }

    @Test func nestedStacksCarryTheirOwnResources() throws {
        let graph = try Self.graph(
            """
            Resources:
              Network:
                Type: AWS::CloudFormation::Stack
                Properties: {TemplateURL: network.yaml}
              Remote:
                Type: AWS::CloudFormation::Stack
                Properties: {TemplateURL: 'https://example.com/unknown.yaml'}
            """,
            nested: [
                "network.yaml":
                    "Resources:\n  A: {Type: AWS::EC2::VPC}\n  B: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref A}}\n"
            ])
        #expect(graph["Network"]?.nested?.nodes.map(\.id) == ["A", "B"])
        #expect(graph["Remote"]?.nested == nil)
        #expect(graph.totalResources == 4)
    }

    // MARK: progress

    static let chain = """
        Resources:
          A: {Type: AWS::SNS::Topic}
          B: {Type: AWS::SSM::Parameter, Properties: {Value: !Ref A}}
          C: {Type: AWS::SSM::Parameter, Properties: {Value: !Ref B}}
          D: {Type: AWS::SQS::Queue}
        """

    func learned(_ pairs: [(String, Double)]) -> DurationTable {
        learned(pairs.map { ($0.0, $0.1, "CREATE") })
    }

    /// A table that saw each (type, seconds, `CREATE`/`UPDATE`/`DELETE`) enough times to learn it.
    func learned(_ entries: [(String, Double, String)]) -> DurationTable {
        var table = DurationTable()
        for _ in 0..<DurationTable.minimumSamples {
            table.add(
                build: entries.flatMap { type, seconds, verb in
                    [
                        Self.event(0, type + verb, type, verb + "_IN_PROGRESS"),
                        Self.event(seconds, type + verb, type, verb + "_COMPLETE"),
                    ]
                }, stack: nil)
        }
        return table
    }

    @Test func progressCountsNestedStacksResourcesAndPhases() throws {
        let graph = try Self.graph(
            """
            Resources:
              Network:
                Type: AWS::CloudFormation::Stack
                Properties: {TemplateURL: network.yaml}
              Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
              Ready: {Type: AWS::CloudFormation::WaitCondition, Properties: {Handle: !Ref Handle}}
            """,
            nested: [
                "network.yaml": "Resources:\n  A: {Type: AWS::EC2::VPC}\n  B: {Type: AWS::EC2::Subnet}\n"
            ])
        let estimator = BuildEstimator(
            graph: graph, table: DurationTable(), operation: .create, stack: "demo", phaseTotal: 2)
        var events = [
            Self.event(0, "demo", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            Self.event(1, "Network", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            Self.event(2, "Handle", "AWS::CloudFormation::WaitConditionHandle", "CREATE_IN_PROGRESS"),
            Self.event(3, "Handle", "AWS::CloudFormation::WaitConditionHandle", "CREATE_COMPLETE"),
        ]
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(4))
        // 3 resources + 2 nested + 2 phases.
        #expect(forecast.total == 7)
        #expect(forecast.done == 1)
        events.append(Self.event(60, "Network", "AWS::CloudFormation::Stack", "CREATE_COMPLETE"))
        events.append(Self.event(61, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS"))
        events.append(
            Self.event(
                70, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS",
                "Received SUCCESS signal with UniqueId phase-1-of-2"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(71))
        #expect(forecast.done == 5)
        events.append(Self.event(80, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_COMPLETE"))
        events.append(Self.event(81, "demo", "AWS::CloudFormation::Stack", "CREATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(82))
        #expect(forecast.done == 7 && forecast.total == 7)
        #expect(forecast.remaining == 0)
    }

    @Test func aResourceDeletedTwiceCountsOnceAndNeverAboveTotal() throws {
        let graph = try Self.graph(Self.chain)
        let estimator = BuildEstimator(
            graph: graph, table: DurationTable(), operation: .delete, stack: "demo")
        var events: [ObservedEvent] = [
            Self.event(0, "demo", "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS")
        ]
        var second = 1.0
        for id in ["C", "D", "D", "B", "A"] {
            events.append(Self.event(second, id, "AWS::SSM::Parameter", "DELETE_IN_PROGRESS"))
            events.append(Self.event(second + 1, id, "AWS::SSM::Parameter", "DELETE_COMPLETE"))
            second += 2
            let forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second))
            #expect(forecast.done <= forecast.total)
        }
        // Another retry of D after it was gone, and a failed then retried delete of C.
        events.append(Self.event(20, "C", "AWS::SSM::Parameter", "DELETE_FAILED"))
        events.append(Self.event(21, "C", "AWS::SSM::Parameter", "DELETE_IN_PROGRESS"))
        events.append(Self.event(22, "C", "AWS::SSM::Parameter", "DELETE_COMPLETE"))
        let forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(23))
        #expect(forecast.total == 4)
        #expect(forecast.done == 4)
    }

    @Test func progressGoesDownOnlyInARollbackAndThenCountsTheRollback() throws {
        let graph = try Self.graph(Self.chain)
        let estimator = BuildEstimator(
            graph: graph, table: DurationTable(), operation: .create, stack: "demo")
        var events = [
            Self.event(0, "demo", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            Self.event(1, "A", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
            Self.event(1, "D", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
            Self.event(5, "A", "AWS::SNS::Topic", "CREATE_COMPLETE"),
            Self.event(6, "B", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
            Self.event(7, "B", "AWS::SSM::Parameter", "CREATE_COMPLETE"),
        ]
        var last = estimator.forecast(events, now: Self.t0.addingTimeInterval(8))
        #expect(last.done == 2 && last.total == 4 && !last.rollingBack)
        events += [
            Self.event(9, "D", "AWS::SQS::Queue", "CREATE_FAILED"),
            Self.event(10, "demo", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS"),
        ]
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(11))
        #expect(forecast.rollingBack)
        // A, B and D were begun: the rollback undoes them.
        #expect(forecast.total == 3 && forecast.done == 0)
        #expect(forecast.done < last.done)
        last = forecast
        for (second, id) in [(12.0, "D"), (14, "B"), (16, "A")] {
            events.append(Self.event(second, id, "AWS::SSM::Parameter", "DELETE_IN_PROGRESS"))
            events.append(Self.event(second + 1, id, "AWS::SSM::Parameter", "DELETE_COMPLETE"))
            forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second + 1.5))
            #expect(forecast.done > last.done && forecast.done <= forecast.total)
            last = forecast
        }
        events.append(Self.event(18, "demo", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(19))
        #expect(forecast.done == 3 && forecast.remaining == 0)
    }

    /// An update counts what its change set plans, before any event names it: the chain's C
    /// replaced, D modified, a new E added, an old F removed at cleanup. A replaced resource
    /// stays done while its old copy is deleted; the removal is done once it is deleted.
    @Test func anUpdateCountsItsChangeSetFromTheStartAndNeverGoesDown() throws {
        let graph = try Self.graph(
            Self.chain + "\n  E: {Type: AWS::SSM::Parameter, Properties: {Value: !Ref C}}")
        let plan = [
            PlannedChange(
                action: "Modify", logicalID: "C", resourceType: "AWS::SSM::Parameter", replacement: true),
            PlannedChange(action: "Modify", logicalID: "D", resourceType: "AWS::SQS::Queue"),
            PlannedChange(action: "Add", logicalID: "E", resourceType: "AWS::SSM::Parameter"),
            PlannedChange(action: "Remove", logicalID: "F", resourceType: "AWS::SNS::Topic"),
        ]
        let table = learned([
            ("AWS::SQS::Queue", 100, "UPDATE"), ("AWS::SSM::Parameter", 20, "UPDATE"),
            ("AWS::SSM::Parameter", 20, "CREATE"), ("AWS::SNS::Topic", 5, "DELETE"),
        ])
        let estimator = BuildEstimator(
            graph: graph, table: table, operation: .update, stack: "demo", planned: plan)
        var events = [Self.event(0, "demo", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS")]
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(1))
        #expect(forecast.total == 4 && forecast.done == 0)
        // D's update is the longest path (100 s); C then E is 40 s; at cleanup the deletes of
        // F and of C's old copy (each 5 s learned, the parameter's from the prior table).
        #expect((forecast.remaining ?? 0) > 100 && (forecast.remaining ?? 0) < 115)
        var last = forecast.done
        let steps: [(Double, String, String, String)] = [
            (1, "C", "AWS::SSM::Parameter", "UPDATE_IN_PROGRESS"),
            (1, "D", "AWS::SQS::Queue", "UPDATE_IN_PROGRESS"),
            (21, "C", "AWS::SSM::Parameter", "UPDATE_COMPLETE"),
            (21, "E", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
            (41, "E", "AWS::SSM::Parameter", "CREATE_COMPLETE"),
            (101, "D", "AWS::SQS::Queue", "UPDATE_COMPLETE"),
            (102, "demo", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            (103, "C", "AWS::SSM::Parameter", "DELETE_IN_PROGRESS"),
            (103, "F", "AWS::SNS::Topic", "DELETE_IN_PROGRESS"),
            (104, "C", "AWS::SSM::Parameter", "DELETE_COMPLETE"),
            (105, "F", "AWS::SNS::Topic", "DELETE_COMPLETE"),
        ]
        for (second, id, type, status) in steps {
            events.append(Self.event(second, id, type, status))
            forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second + 0.5))
            #expect(forecast.total == 4, "\(id) \(status)")
            #expect(forecast.done >= last && forecast.done <= forecast.total, "\(id) \(status)")
            last = forecast.done
            if id == "C", status == "DELETE_IN_PROGRESS" { #expect(forecast.done == 3) }
        }
        #expect(forecast.done == 4)
        // Without the plan, the same update counts only the resources its events name.
        let unplanned = BuildEstimator(graph: graph, table: table, operation: .update, stack: "demo")
        #expect(unplanned.forecast(Array(events.prefix(2)), now: Self.t0.addingTimeInterval(2)).total == 1)
    }

    /// A nested stack's planned changes count inside it: the stack resource and each change.
    @Test func anUpdatesNestedChangesCountInsideTheirStack() throws {
        let graph = try Self.graph(
            "Resources:\n  Network:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: network.yaml}\n",
            nested: [
                "network.yaml":
                    "Resources:\n  A: {Type: AWS::EC2::VPC}\n  B: {Type: AWS::EC2::Subnet}\n  C: {Type: AWS::EC2::Subnet}\n"
            ])
        let plan = [
            PlannedChange(action: "Modify", logicalID: "Network", resourceType: "AWS::CloudFormation::Stack"),
            PlannedChange(
                action: "Modify", logicalID: "B", resourceType: "AWS::EC2::Subnet", nestedStack: ["Network"]),
        ]
        let estimator = BuildEstimator(
            graph: graph, table: DurationTable(), operation: .update, stack: "demo", planned: plan)
        let events = [
            Self.event(0, "demo", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS"),
            Self.event(1, "Network", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS"),
        ]
        #expect(estimator.forecast(events, now: Self.t0.addingTimeInterval(2)).total == 2)
        let json = PlannedChange.json(plan)
        #expect(PlannedChange.list(json: json) == plan)
        #expect(PlannedChange.list(json: "not json") == nil)
    }

    // MARK: ETA

    @Test func theEtaIsTheLongestRemainingPathElapsedAware() throws {
        let graph = try Self.graph(Self.chain)
        // A 10 s, B and C 20 s each, D 100 s: A→B→C is 50 s, D alone 100 s.
        let table = learned([("AWS::SNS::Topic", 10), ("AWS::SSM::Parameter", 20), ("AWS::SQS::Queue", 100)])
        let estimator = BuildEstimator(graph: graph, table: table, operation: .create, stack: "demo")
        #expect(estimator.forecast([], now: Self.t0).remaining == 100)
        #expect(estimator.forecast([], now: Self.t0).basis == .learned)
        var events = [
            Self.event(0, "A", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
            Self.event(0, "D", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
            Self.event(10, "A", "AWS::SNS::Topic", "CREATE_COMPLETE"),
            Self.event(10, "B", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
        ]
        // At 15 s: D has 85 s left; B 15 s then C 20 s.
        #expect(estimator.forecast(events, now: Self.t0.addingTimeInterval(15)).remaining == 85)
        events.append(Self.event(30, "B", "AWS::SSM::Parameter", "CREATE_COMPLETE"))
        events.append(Self.event(30, "C", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"))
        // At 150 s D ran past its median (p90 is also 100: all three samples were 100):
        // beyond, a quarter of its time so far; it is overdue.
        let late = estimator.forecast(events, now: Self.t0.addingTimeInterval(150))
        #expect(late.remaining == 37.5)
        #expect(late.overdue.map(\.logicalID).contains("D"))
        #expect(late.overdue.first { $0.logicalID == "D" }?.median == 100)
    }

    @Test func aDeleteWalksTheGraphBackwards() throws {
        let graph = try Self.graph(Self.chain)
        let table = learned([
            ("AWS::SNS::Topic", 10, "DELETE"), ("AWS::SSM::Parameter", 20, "DELETE"),
            ("AWS::SQS::Queue", 5, "DELETE"),
        ])
        let estimator = BuildEstimator(graph: graph, table: table, operation: .delete, stack: "demo")
        // C, then B, then A: 20 + 20 + 10.
        #expect(estimator.forecast([], now: Self.t0).remaining == 50)
    }

    @Test func learnedPhasesForecastTheWaitCondition() throws {
        let graph = try Self.graph(
            "Resources:\n  Ready: {Type: AWS::CloudFormation::WaitCondition}\n")
        var table = DurationTable()
        for _ in 0..<3 {
            table.add(phases: [
                Self.event(0, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS"),
                Self.event(
                    30, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS",
                    "Received SUCCESS signal with UniqueId phase-1-of-3"),
                Self.event(
                    90, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS",
                    "Received SUCCESS signal with UniqueId phase-2-of-3"),
                Self.event(
                    100, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS",
                    "Received SUCCESS signal with UniqueId phase-3-of-3"),
            ])
        }
        #expect(table.phaseStats(2)?.median == 60)
        let estimator = BuildEstimator(
            graph: graph, table: table, operation: .create, stack: "demo", phaseTotal: 3)
        #expect(estimator.forecast([], now: Self.t0).remaining == 100)
        let events = [
            Self.event(0, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS"),
            Self.event(
                30, "Ready", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS",
                "Received SUCCESS signal with UniqueId phase-1-of-3"),
        ]
        // In phase 2 for 20 s: 40 s of it, then 10 s of phase 3.
        let forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(50))
        #expect(forecast.remaining == 50)
        #expect(forecast.done == 1 && forecast.total == 4)
    }

    // MARK: vagrant

    /// A vagrant `up` like Fixtures/vagrant/up-success.txt, `stretch` times as slow.
    static func vagrantUp(_ stretch: Double, until: Double = .infinity) -> [ObservedEvent] {
        let steps: [(Double, String, String, String?)] = [
            (0, "Vagrant::Machine", "UP_START", nil),
            (0, "Vagrant::Machine", "INFO", "==> default: Importing base box 'bento/amazonlinux-2023'..."),
            (22, "Vagrant::Machine", "INFO", "==> default: Booting VM..."),
            (57, "Vagrant::Machine", "OUTPUT", "==> default: Machine booted and ready!"),
            (58, "Vagrant::Machine", "INFO", "==> default: Running provisioner: bootstrap (shell)..."),
            (62, "Vagrant::Provisioner", "PHASE 1/2", "Updating the system"),
            (78, "Vagrant::Provisioner", "PHASE 2/2", "Installing Apache"),
            (110, "Vagrant::Machine", "UP_END", nil),
        ]
        return steps.filter { $0.0 * stretch <= until }.map {
            event($0.0 * stretch, "default", $0.1, $0.2, $0.3)
        }
    }

    @Test func vagrantBuildsCountStepsAndPhasesAndLearnTheTimeToTheEnd() {
        var table = DurationTable()
        for stretch in [0.9, 1.0, 1.1] {
            table.add(
                milestones: Self.vagrantUp(stretch), operation: .create, start: Self.t0,
                end: Self.t0.addingTimeInterval(110 * stretch))
        }
        #expect(table.milestoneLists[.create]?.first == "default UP_START")
        let estimator = BuildEstimator(
            graph: ResourceGraph(nodes: []), table: table, operation: .create, stack: "wiki", phaseTotal: 2)
        // Booted, 10 s since, of the 53 s it usually takes from there to the end.
        let events = Self.vagrantUp(1, until: 57)
        let forecast = estimator.forecastVagrant(
            events, start: Self.t0, now: Self.t0.addingTimeInterval(67), finished: false)
        #expect(forecast.total == 7)  // 5 vagrant steps + 2 phases
        #expect(forecast.done == 4)
        #expect(forecast.remaining == 43)
        #expect(forecast.basis == .learned)
        let end = estimator.forecastVagrant(
            Self.vagrantUp(1), start: Self.t0, now: Self.t0.addingTimeInterval(111), finished: true)
        #expect(end.done == end.total && end.remaining == 0)
        // Nothing learned: counted all the same, no ETA.
        let fresh = BuildEstimator(
            graph: ResourceGraph(nodes: []), table: DurationTable(), operation: .create, stack: "wiki",
            phaseTotal: 2)
        let unknown = fresh.forecastVagrant(
            events, start: Self.t0, now: Self.t0.addingTimeInterval(67), finished: false)
        #expect(unknown.remaining == nil && unknown.done == 4 && unknown.total == 6)
    }
}
