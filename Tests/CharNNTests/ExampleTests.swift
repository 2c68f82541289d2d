import Foundation
import Testing

@Suite("Examples", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
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
        // "sample: Twinkle" is printed whatever the model does; after 300 steps on the rhyme
        // (training loss ≈ 0.03 nats/char), a cool sample continues it.
        #expect(output.contains("sample: Twinkle, twinkle, little star"), "\(output)")
        #expect(output.contains("identical"))
        #expect(output.contains("file run: 50 steps"), "\(output)")
        // The last line: 40 sampled symbols after the prime, all from the rhyme's alphabet.
        let rhyme = Set("Twinkle, twinkle, little star, how I wonder what you are!\nUp above the world so high, like a diamond in the sky.\n")
        let bestSample = output.components(separatedBy: "best checkpoint: Up").dropFirst().last.map { Array($0.dropLast()) } ?? []
        #expect(bestSample.count == 40 && bestSample.allSatisfy(rhyme.contains), "\(output)")
        // The model finds its own text far less surprising than the same letters scrambled.
        let scores = output.split(separator: "\n").first { $0.hasPrefix("score:") }.map { line in
            line.split(separator: " ").compactMap { Double($0) }
        } ?? []
        #expect(scores.count == 2 && scores[0] < scores[1], "\(output)")
    }
}
