import CharNN
import Foundation
import Testing

/// The rules every subcommand keeps alike (issue 17, item 5): --json is one snake_case JSON
/// object per line, the same failure exits with the same status, --help states each default
/// once, `-` reads standard input, and `sample` streams into a pipe.
@Suite("CLI consistency", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct CLIConsistencyTests {
    /// Every subcommand, as the root's help lists them.
    static let subcommands = ["train", "prepare", "sample", "eval", "inspect", "export", "vocab", "doctor", "bench", "serve"]

    /// The committed pretrained model: big enough that sampling 2000 symbols takes a while.
    static let pretrained = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("checkpoints/shakespeare.safetensors").path

    /// Runs `charnn` with `input` on standard input.
    static func run(_ arguments: [String], input: Data) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = CharNNBinary.url
        process.arguments = arguments
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        // Write on another thread: a child that fills its output pipe before reading its input
        // would otherwise wait on us while we wait on it.
        let writer = Thread {
            try? inPipe.fileHandleForWriting.write(contentsOf: input)
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let stdout = outPipe.fileHandleForReading.readDataToEndOfFile()
        let stderr = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// The keys anywhere in `value` (objects inside arrays and objects included) that are not
    /// snake_case: lower-case letters, digits and underscores.
    static func nonSnakeKeys(_ value: Any) -> [String] {
        if let object = value as? [String: Any] {
            let bad = object.keys.filter { key in !key.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" } }
            return bad + object.values.flatMap(nonSnakeKeys)
        }
        if let array = value as? [Any] { return array.flatMap(nonSnakeKeys) }
        return []
    }

    @Test("the key check itself finds camelCase keys, however deeply nested")
    func keyCheckWorks() throws {
        let nested = try JSONSerialization.jsonObject(with: Data(#"{"a_b":[{"ok":1,"deep":{"checksumMatches":true}}],"x":{"topK":2}}"#.utf8))
        #expect(Set(Self.nonSnakeKeys(nested)) == ["checksumMatches", "topK"])
    }

    @Test("every --json output is one object per line that parses, with only snake_case keys")
    func jsonOutputs() throws {
        let dir = try temporaryDirectory("json-keys")
        let corpus = try writeSmallCorpus(in: dir)
        // Training from standard input, so `-` for train is covered too.
        let trained = try Self.run(["train", "-", "--out", dir + "/run", "--steps", "3", "--eval-every", "2", "--json"] + tinyTrainArguments,
                                   input: try Data(contentsOf: URL(fileURLWithPath: corpus)))
        try #require(trained.status == 0, "\(trained.stderr)")
        let checkpoint = dir + "/run/latest.safetensors"
        var damaged = [UInt8](try Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        damaged[damaged.count - 3] ^= 0x40
        try Data(damaged).write(to: URL(fileURLWithPath: dir + "/damaged.safetensors"))
        let outputs: [(command: [String], expectedKeys: [String])] = [
            (["doctor", "--json"], ["openblas_core", "simd_kernels"]),
            (["inspect", checkpoint, "--json"], ["checksum_matches", "file_bytes", "vocabulary_size"]),
            (["inspect", dir + "/damaged.safetensors", "--json"], ["checksum_matches", "problem"]),
            (["eval", corpus, "--checkpoint", checkpoint, "--json"], ["nats_per_char", "bits_per_char"]),
            (["vocab", corpus, "--json"], ["characters", "symbols"]),
            (["sample", "--checkpoint", checkpoint, "--length", "20", "--count", "2", "--top-k", "3", "--json"],
             ["samples", "seed", "top_k", "top_p", "temperature", "precision", "checkpoint", "prime", "length"]),
        ]
        var results = outputs.map { ($0.command, $0.expectedKeys, try? CharNNBinary.run($0.command)) }
        results.append((["train", "-", "--json"], ["stop_reason", "steps", "epochs", "elapsed_seconds", "chars_per_second",
                                                  "best_validation_loss", "final_train_loss", "run_directory"], trained))
        for (command, expectedKeys, result) in results {
            let result = try #require(result, "\(command)")
            let expected: Int32 = command.contains { $0.hasSuffix("/damaged.safetensors") } ? 65 : 0
            #expect(result.status == expected, "\(command): \(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1, "\(command) printed \(lines.count) lines on stdout: \(result.stdout)")
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(command): \(line)")
                #expect(Self.nonSnakeKeys(object).isEmpty, "\(command): keys \(Self.nonSnakeKeys(object)) are not snake_case")
                for key in expectedKeys { #expect(object[key] != nil, "\(command): no \(key) in \(line)") }
            }
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        #expect(summary["steps"] as? Int == 3 && summary["stop_reason"] as? String == "step_budget")
        #expect(summary["run_directory"] as? String == dir + "/run" && summary["best_validation_loss"] is Double)
        #expect(trained.stderr.contains("Done (reached the step budget)"), "progress belongs on stderr with --json")
        let sample = try #require(try JSONSerialization.jsonObject(with: Data(results[5].2!.stdout.utf8)) as? [String: Any])
        #expect((sample["samples"] as? [String])?.count == 2 && sample["top_k"] as? Int == 3 && sample["seed"] is Int)
        // bench always prints JSON: one line for training, one per sampling precision, and with
        // --step-streams one per stream count and precision for the batched step.
        let bench = try CharNNBinary.run(["bench", corpus, "--layers", "1", "--hidden", "8", "--embedding", "4", "--batch", "2",
                                          "--seq", "4", "--iters", "1", "--warmup", "0", "--sample-symbols", "10", "--threads", "1",
                                          "--step-streams", "1,3"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let benchLines = bench.stdout.split(separator: "\n")
        var phases: [String] = []
        for line in benchLines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "bench: \(line)")
            #expect(Self.nonSnakeKeys(object).isEmpty && object["chars_per_s"] is Double && object["phase"] is String, "bench: \(line)")
            let phase = object["phase"] as? String ?? "?"
            phases.append("\(phase)@\(object["batch"] as? Int ?? -1)")
        }
        #expect(phases == ["train@2", "sample@1", "sample_bf16@1", "sample_int8@1", "step@1", "step_bf16@1", "step_int8@1",
                           "step@3", "step_bf16@3", "step_int8@3"], "\(bench.stdout)")
        let badStreams = try CharNNBinary.run(["bench", corpus, "--step-streams", "1,,8"])
        #expect(badStreams.status != 0 && badStreams.stderr.contains("--step-streams") && badStreams.stdout.isEmpty, "\(badStreams.stderr)")
    }

    /// The damaged checkpoints of CheckpointCLIRobustnessTests, a missing one, and a directory,
    /// with the one status each must give.
    static func badCheckpoints(in dir: String) throws -> [(path: String, status: Int32)] {
        let good = try #require(fileBytes(dir + "/run/latest.safetensors"))
        var cases: [(String, Int32)] = [(dir + "/missing.safetensors", 66), (dir + "/run", 66)]
        for variant in try CheckpointCLIRobustnessTests.damaged(good) {
            let path = dir + "/\(variant.name).safetensors"
            try Data(variant.bytes).write(to: URL(fileURLWithPath: path))
            cases.append((path, 65))
        }
        return cases
    }

    @Test("the same damaged checkpoint exits with the same status from inspect, sample, eval and export")
    func sameStatusEverywhere() throws {
        let dir = try temporaryDirectory("same-status")
        let corpus = try trainTinyRun(in: dir, steps: 2)
        for (path, expected) in try Self.badCheckpoints(in: dir) {
            var statuses: [String: Int32] = [:]
            for command in [["inspect", path], ["sample", "--checkpoint", path, "--length", "5"],
                            ["eval", corpus, "--checkpoint", path], ["export", path, dir + "/copy.safetensors"]] {
                let result = try CharNNBinary.run(command)
                expectCleanFailure(result, mentions: [path])
                statuses[command[0]] = result.status
            }
            #expect(Set(statuses.values) == [expected], "\(path): \(statuses)")
        }
        let resumed = try CharNNBinary.run(["train", corpus, "--out", dir + "/missing-run", "--resume"] + tinyTrainArguments)
        #expect(resumed.status == 66, "\(resumed.stderr)")
    }

    /// `--help` split into one block per option: its first line starts with `-`, the wrapped
    /// lines under it are indented further.
    static func optionBlocks(_ help: String) -> [String] {
        var blocks: [String] = []
        var open = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            let indent = line.count - trimmed.count
            if indent > 0 && indent <= 4 && trimmed.hasPrefix("-") {
                blocks.append(String(trimmed))
                open = true
            } else if open && indent > 4 {
                blocks[blocks.count - 1] += " " + trimmed
            } else {
                open = false  // a blank line, a heading or an argument ends the block
            }
        }
        return blocks
    }

    @Test("no --help states a default twice", arguments: subcommands)
    func helpDefaultsOnce(_ subcommand: String) throws {
        let result = try CharNNBinary.run([subcommand, "--help"])
        #expect(result.status == 0)
        let blocks = Self.optionBlocks(result.stdout)
        #expect(blocks.count >= 2, "no options found in \(result.stdout)")
        for block in blocks {
            let defaults = block.lowercased().components(separatedBy: "default:").count - 1
            #expect(defaults <= 1, "\(subcommand): \(block)")
        }
    }

    @Test("the block splitter sees a doubled default, and the root's help lists every subcommand tested")
    func helpCheckWorks() throws {
        let doubled = "OPTIONS:\n  --length <n>            Symbols (default: 1000).\n                          (default: 1000)\n  --seed <n>  Seed.\n"
        #expect(Self.optionBlocks(doubled).map { $0.components(separatedBy: "default:").count - 1 } == [2, 0])
        let root = try CharNNBinary.run(["--help"]).stdout
        let listed = root.components(separatedBy: "SUBCOMMANDS:").last!.split(separator: "\n")
            .compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard line.hasPrefix("  ") && !line.hasPrefix("   "), let name = words.first else { return nil }
                return name.allSatisfy { ("a"..."z").contains($0) } ? String(name) : nil
            }
        #expect(Set(listed) == Set(Self.subcommands), "\(listed)")
    }

    @Test("- reads standard input for vocab, eval and sample --prime-file, with the same result and errors naming it")
    func standardInput() throws {
        let dir = try temporaryDirectory("stdin")
        let corpus = try trainTinyRun(in: dir, steps: 2)
        let text = try Data(contentsOf: URL(fileURLWithPath: corpus))
        let checkpoint = dir + "/run/latest.safetensors"

        let vocabFile = try CharNNBinary.run(["vocab", corpus, "--json"])
        let vocabStdin = try Self.run(["vocab", "-", "--json"], input: text)
        #expect(vocabStdin.status == 0 && vocabStdin.stdout == vocabFile.stdout && !vocabFile.stdout.isEmpty, "\(vocabStdin.stderr)")
        let table = try Self.run(["vocab", "-"], input: text)
        #expect(table.stdout.hasPrefix("# standard input: "), "\(table.stdout.prefix(80))")

        let evalFile = try CharNNBinary.run(["eval", corpus, "--checkpoint", checkpoint])
        let evalStdin = try Self.run(["eval", "-", "--checkpoint", checkpoint], input: text)
        #expect(evalStdin.status == 0 && evalStdin.stdout == evalFile.stdout && evalFile.stdout.contains("nats/char"), "\(evalStdin.stderr)")

        let prime = "The quick "
        let sampleText = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--seed", "4", "--length", "30", "--prime", prime])
        let sampleStdin = try Self.run(["sample", "--checkpoint", checkpoint, "--seed", "4", "--length", "30", "--prime-file", "-"],
                                       input: Data(prime.utf8))
        #expect(sampleStdin.status == 0 && sampleStdin.stdout == sampleText.stdout && sampleText.stdout.hasPrefix(prime), "\(sampleStdin.stderr)")

        // Bad input on standard input: the same checks and exit statuses as for a file, naming it.
        let invalid = Data("ok\n".utf8) + Data([0xC3, 0x28])
        let binary = Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0])
        for command in [["vocab", "-"], ["eval", "-", "--checkpoint", checkpoint], ["train", "-", "--out", dir + "/bad"] + tinyTrainArguments,
                        ["sample", "--checkpoint", checkpoint, "--prime-file", "-"]] {
            expectCleanFailure(try Self.run(command, input: invalid), mentions: ["standard input: invalid UTF-8 at byte offset 3"], status: 65)
            expectCleanFailure(try Self.run(command, input: binary), mentions: ["standard input: not a UTF-8 text file"], status: 65)
        }
        expectCleanFailure(try Self.run(["train", "-", "--out", dir + "/empty"] + tinyTrainArguments, input: Data()),
                           mentions: ["standard input: the file holds no text"], status: 65)
    }

    // Time limits in this suite catch hangs, not slowness: in a full parallel run on two cores
    // (with the SIGKILL test's children) this one went past one minute without hanging.
    @Test("sample into a pipe streams as it generates; --buffered writes one block at the end", .timeLimit(.minutes(3)))
    func sampleStreams() throws {
        try #require(FileManager.default.fileExists(atPath: Self.pretrained), "\(Self.pretrained)")
        for buffered in [false, true] {
            let process = Process()
            process.executableURL = CharNNBinary.url
            process.arguments = ["sample", "--checkpoint", Self.pretrained, "--length", "2000", "--seed", "9",
                                 "--precision", "float32", "--threads", "1"] + (buffered ? ["--buffered"] : [])
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let first = out.fileHandleForReading.availableData  // blocks until the first bytes come
            let runningAtFirst = process.isRunning
            let rest = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(!first.isEmpty, "no output")
            if buffered {
                // Under 4 KiB, written at the end in one write(2): the reader gets it all at once.
                #expect(rest.isEmpty, "first \(first.count), rest \(rest.count) bytes")
            } else {
                #expect(runningAtFirst, "the first \(first.count) bytes came only when sampling had ended")
                #expect(first.count < (first.count + rest.count) / 2, "first \(first.count) of \(first.count + rest.count) bytes")
            }
        }
    }
}

@Suite("CLI: library errors name fields, the CLI names flags", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct ErrorNamingTests {
    @Test("every field a library error can name has a flag, and the library's own wording names no flag")
    func fieldsMapToFlags() {
        var options = TrainingOptions()
        options.sequenceLength = 0
        #expect { try options.validate() } throws: { error in
            guard case .invalidOption("sequenceLength", _)? = error as? TrainingError else { return false }
            let library = "\(error)", cli = (error as! TrainingError).describe(naming: { ["sequenceLength": "--seq"][$0] ?? $0 })
            return !library.contains("--") && cli.hasPrefix("--seq must be at least 1")
        }
        let errors: [String] = [
            TrainingError.modelTooLarge(batch: 1, sequenceLength: 2, hiddenSize: 3, layers: 4).description,
            TrainingError.corpusTooSmall(symbols: 9, batch: 4, sequenceLength: 4).description,
            TrainingError.nonFiniteLoss(step: 1, what: "the loss").description,
            TrainingError.incompatibleResume("x").description,
            RunError.runDirectoryExists("d").description, RunError.unusableDirectory("x").description,
            RunError.runInUse(path: "d", pid: nil).description, RunError.noCheckpointToResume("d").description,
            SamplingError.unknownPrimeSymbols(["x"]).description,
        ]
        for message in errors { #expect(!message.contains("--"), "\(message)") }
    }

    @Test("the CLI turns field names into flags in its messages", .timeLimit(.minutes(3)))
    func cliShowsFlags() throws {
        let seq = try CharNNBinary.run(["train", "/nonexistent.txt", "--seq", "0"])
        #expect(seq.status == 64 && seq.stderr.contains("--seq must be at least 1, got 0"), "\(seq.stderr)")
        let big = try CharNNBinary.run(["train", "/nonexistent.txt", "--batch", "100000", "--seq", "10000", "--hidden", "16384", "--layers", "64"])
        #expect(big.status == 64 && big.stderr.contains("--batch 100000 --seq 10000 --hidden 16384 --layers 64 need more memory"), "\(big.stderr)")
        let count = try CharNNBinary.run(["sample", "--count", "0", "--length", "1"])
        #expect(count.status != 0 && count.stderr.contains("--count"), "\(count.stderr)")
    }
}
