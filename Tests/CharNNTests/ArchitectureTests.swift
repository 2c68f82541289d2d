import Foundation
import Testing

@Suite("Architecture: folder dependencies", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct ArchitectureTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the library's folders use only the folders docs/architecture.md allows, with no cycle",
          .timeLimit(.minutes(3)))
    func foldersFollowTheTable() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repository.appendingPathComponent("scripts/check-architecture").path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
    }

    @Test("no two tracked paths differ only in letter case (case-insensitive file systems)")
    func noCaseClash() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", Self.repository.path, "ls-files"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let files = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0 && !files.isEmpty)
        // Every prefix of every path (each folder too) must be unique ignoring case.
        var seen: [String: String] = [:]
        var clashes: [String] = []
        for file in files {
            let parts = file.split(separator: "/")
            for n in 1...parts.count {
                let path = parts[0..<n].joined(separator: "/")
                if let other = seen[path.lowercased()], other != path { clashes.append("\(other) / \(path)") }
                seen[path.lowercased()] = path
            }
        }
        #expect(clashes.isEmpty, "\(Set(clashes).sorted())")
    }
}
