import Foundation
import Testing

/// Replays every committed fuzz input through the fuzz targets' own properties
/// (`FuzzProperties.swift` is the fuzz package's file, linked here): the seed corpora in
/// `Fuzz/Seeds/<target>/` and each input that once crashed a target or broke a property, kept in
/// `Fixtures/fuzz-regressions/<target>/` and named after what it found. The fuzzers themselves
/// run outside CI (scripts/fuzz).
@Suite("Fuzz regressions: seeds and past findings replayed")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every committed input of `target`, with a label for failure messages.
    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let directories = [root.appendingPathComponent("Fuzz/Seeds/\(target)"),
                           TestFiles.fixture("fuzz-regressions/\(target)")]
        var found: [(String, [UInt8])] = []
        for directory in directories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                found.append(("\(directory.lastPathComponent)/\(name)", [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))))
            }
        }
        return found
    }

    @Test("every target has seeds", arguments: ["FuzzCheckpoint", "FuzzTokenizer", "FuzzDuration"])
    func seedsExist(target: String) throws {
        #expect(try Self.inputs(target).count >= 3)
    }

    @Test("checkpoint reader")
    func checkpoint() throws {
        for (name, bytes) in try Self.inputs("FuzzCheckpoint") {
            #expect(FuzzProperties.checkpoint(bytes) == nil, "\(name)")
        }
    }

    @Test("tokenizer and UTF-8 decoder")
    func tokenizer() throws {
        for (name, bytes) in try Self.inputs("FuzzTokenizer") {
            #expect(FuzzProperties.tokenizer(bytes) == nil, "\(name)")
        }
    }

    @Test("--time parser")
    func duration() throws {
        for (name, bytes) in try Self.inputs("FuzzDuration") {
            #expect(FuzzProperties.duration(bytes) == nil, "\(name)")
        }
    }
}
