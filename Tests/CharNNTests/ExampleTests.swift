import Foundation
import Testing

@Suite("Examples")
struct ExampleTests {
    @Test("QuickStart trains, samples, scores and reloads through the public API")
    func quickStart() throws {
        let binary = CharNNBinary.url.deletingLastPathComponent().appendingPathComponent("QuickStart")
        let process = Process()
        process.executableURL = binary
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("sample: Twinkle"))
        #expect(output.contains("identical"))
        #expect(output.contains("file run: 50 steps"), "\(output)")
        #expect(output.contains("best checkpoint: Up"), "\(output)")
        // The model finds its own text far less surprising than the same letters scrambled.
        let scores = output.split(separator: "\n").first { $0.hasPrefix("score:") }.map { line in
            line.split(separator: " ").compactMap { Double($0) }
        } ?? []
        #expect(scores.count == 2 && scores[0] < scores[1], "\(output)")
    }
}
