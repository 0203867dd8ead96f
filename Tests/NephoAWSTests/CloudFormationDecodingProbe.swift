import Foundation

@testable import NephoAWS

/// Reaches the internal date parser from tests.
enum CloudFormationDecodingProbe {
    static func parse(_ text: String) -> Date? { CloudFormationDecoding.parseDate(text) }
}
