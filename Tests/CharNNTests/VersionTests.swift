import CharNN
import Foundation
import Testing

/// The version is written in two places a person edits by hand: `charnnVersion` and the newest
/// CHANGELOG.md section. These tests keep them from drifting apart.
@Suite("Version", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct VersionTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The versions of CHANGELOG.md's `## [X.Y.Z] - date` headings, newest first; `## [Unreleased]`
    /// is not a version and is skipped.
    static func changelogVersions() throws -> [String] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let match = line.wholeMatch(of: /## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}/) else { return nil }
            return String(match.1)
        }
    }

    @Test("CHANGELOG.md's newest version is charnnVersion")
    func changelogMatchesConstant() throws {
        let versions = try Self.changelogVersions()
        #expect(versions.first == charnnVersion, "newest CHANGELOG.md section \(versions.first ?? "none") vs charnnVersion \(charnnVersion)")
    }

    @Test("CHANGELOG.md lists each version once, newest first")
    func changelogOrder() throws {
        let versions = try Self.changelogVersions()
        let numbers = versions.map { $0.split(separator: ".").map { Int($0)! } }
        #expect(numbers.count >= 2)
        for (newer, older) in zip(numbers, numbers.dropFirst()) {
            #expect(newer.lexicographicallyPrecedes(older) == false && newer != older, "\(newer) is listed above \(older)")
        }
    }

    @Test("charnn --version prints charnnVersion")
    func cliVersion() throws {
        let r = try CharNNBinary.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout == charnnVersion + "\n")
    }
}
