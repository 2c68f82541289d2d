import Foundation
import Testing

/// Rows "Options" of docs/robustness.md: zero, negative, NaN and huge values for every numeric
/// option, conflicting options, and malformed --time, each refused before any work with one line
/// naming the option (exit 64), and valid edge values accepted.
@Suite("Robustness: command-line options", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct OptionRobustnessTests {
    /// Every numeric option of `charnn train`, with the values it must refuse.
    static let trainRefusals: [(option: String, values: [String])] = [
        ("--layers", ["0", "-1", "nan", "99999999999999999999", "65"]),
        ("--hidden", ["0", "-1", "nan", "99999999999999999999", "100000"]),
        ("--embedding", ["0", "-1", "nan", "99999999999999999999", "100000"]),
        ("--dropout", ["-0.1", "nan", "1", "1e300"]),
        ("--batch", ["0", "-1", "nan", "99999999999999999999", "1000000000"]),
        ("--seq", ["0", "-1", "nan", "99999999999999999999", "1000000000"]),
        ("--lr", ["0", "-1", "nan", "inf", "1e300"]),
        ("--warmup-steps", ["-1", "nan", "99999999999999999999"]),
        ("--clip", ["0", "-1", "nan", "inf"]),
        ("--epochs", ["0", "-1", "nan", "9223372036854775807"]),
        ("--steps", ["0", "-1", "nan", "99999999999999999999"]),
        ("--time", ["0", "-1m", "nan", "inf", "100000h", "1e400"]),
        ("--val-frac", ["-0.1", "nan", "0.9", "1e300"]),
        ("--val-symbols", ["0", "-1", "nan", "99999999999999999999"]),
        ("--eval-every", ["0", "-1", "nan", "99999999999999999999"]),
        ("--save-every", ["0", "-1", "nan", "99999999999999999999"]),
        ("--seed", ["-1", "nan", "18446744073709551616"]),
        ("--threads", ["0", "-1", "nan", "100000"]),
        ("--min-count", ["0", "-1", "nan"]),
    ]

    /// Every numeric option of `charnn sample`, with the values it must refuse.
    static let sampleRefusals: [(option: String, values: [String])] = [
        ("--temperature", ["0", "-1", "nan", "inf", "1e400"]),
        ("--top-k", ["0", "-1", "nan", "99999999999999999999"]),
        ("--top-p", ["0", "-0.5", "nan", "1.5"]),
        ("--length", ["-1", "nan", "99999999999999999999"]),
        ("--count", ["0", "-1", "nan", "5000"]),
        ("--seed", ["-1", "nan", "18446744073709551616"]),
        ("--threads", ["0", "-1", "nan", "1000"]),
    ]

    @Test("charnn train refuses zero, negative, NaN and huge values of every numeric option",
          arguments: trainRefusals.flatMap { o in o.values.map { (o.option, $0) } })
    func trainRefuses(option: String, value: String) throws {
        let dir = try temporaryDirectory("options")
        let corpus = try writeSmallCorpus(in: dir)
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", option, value])
        expectCleanFailure(result, mentions: [option], status: 64)
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"))
    }

    @Test("charnn sample refuses zero, negative, NaN and huge values of every numeric option",
          arguments: sampleRefusals.flatMap { o in o.values.map { (o.option, $0) } })
    func sampleRefuses(option: String, value: String) throws {
        // The checkpoint does not exist: the option must be refused before it is looked for.
        let result = try CharNNBinary.run(["sample", "--checkpoint", "/nonexistent.safetensors", option, value])
        expectCleanFailure(result, mentions: [option], status: 64)
    }

    @Test("valid edge values pass validation (the run then stops at the missing corpus or checkpoint)",
          arguments: [
            ["train", "/nonexistent.txt", "--warmup-steps", "0", "--dropout", "0", "--val-frac", "0", "--seed", "0"],
            ["train", "/nonexistent.txt", "--steps", "9223372036854775807", "--save-every", "9223372036854775807"],
            ["train", "/nonexistent.txt", "--epochs", "1000000", "--time", "8760h", "--threads", "256", "--lr", "10"],
            ["sample", "--checkpoint", "/nonexistent.safetensors", "--length", "0", "--top-k", "9223372036854775807", "--temperature", "1e-300"],
            ["sample", "--checkpoint", "/nonexistent.safetensors", "--top-p", "1", "--seed", "18446744073709551615", "--count", "4096"],
          ])
    func validEdges(arguments: [String]) throws {
        // Each train case gets its own run directory: the cases run in parallel, and two runs on
        // one directory rightly refuse each other (exit 75) before either reads its corpus.
        let out = arguments[0] == "train" ? ["--out", try temporaryDirectory("edges") + "/run"] : []
        let result = try CharNNBinary.run(arguments + out)
        // Past validation (not 64): the missing file is the error, with its own status.
        expectCleanFailure(result, mentions: ["/nonexistent"], status: 66)
    }

    @Test("conflicting options are refused, naming both", arguments: [
        (["sample", "--checkpoint", "x", "--argmax", "--temperature", "0.5"], ["--argmax", "--temperature"]),
        (["sample", "--checkpoint", "x", "--argmax", "--top-k", "3"], ["--argmax", "--top-k"]),
        (["sample", "--checkpoint", "x", "--prime", "a", "--prime-file", "f"], ["--prime", "--prime-file"]),
        (["train", "x.txt", "--resume", "--force"], ["--resume", "--force"]),
        (["eval", "x.txt", "--precision", "int8", "--parallel", "2"], ["--parallel", "--precision int8"]),
    ])
    func conflicts(arguments: [String], names: [String]) throws {
        expectCleanFailure(try CharNNBinary.run(arguments), mentions: names, status: 64)
    }

    @Test("an unknown --precision is one line naming the option and the formats", arguments: ["sample", "eval"])
    func badPrecision(command: String) throws {
        let file = command == "eval" ? ["/nonexistent.txt"] : []
        for value in ["int4", "INT8", ""] {
            let result = try CharNNBinary.run([command] + file + ["--checkpoint", "/nonexistent.safetensors", "--precision", value])
            expectCleanFailure(result, mentions: ["--precision", "int8", "bfloat16", "float32"], status: 64)
        }
    }

    @Test("--time in an unknown format says what is accepted", arguments: [
        ("1d", "unknown unit 'd'"), ("ten minutes", "use a number with s, m or h"), ("30m1h", "largest first"),
        ("1h30", "use a number with s, m or h"), ("", "empty duration"), ("1.2.3m", "use a number"), ("--5m", "greater than zero"),
        ("0.0001", "shorter than the 1 ms minimum"),
    ])
    func badTime(text: String, reason: String) throws {
        let result = try CharNNBinary.run(["train", "/nonexistent.txt", "--time", text])
        expectCleanFailure(result, mentions: ["--time", reason], status: 64)
    }

    @Test("unknown options and subcommands get one line too")
    func unknown() throws {
        expectCleanFailure(try CharNNBinary.run(["train", "x.txt", "--bogus"]), mentions: ["--bogus", "charnn train --help"], status: 64)
        expectCleanFailure(try CharNNBinary.run(["trian"]), mentions: ["trian"], status: 64)
        expectCleanFailure(try CharNNBinary.run(["train"]), mentions: ["corpus"], status: 64)
        // Help is still help.
        let help = try CharNNBinary.run(["train", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--save-every"))
    }

    @Test("--out that is a file, or cannot be created, is named")
    func badOut() throws {
        let dir = try temporaryDirectory("out")
        let corpus = try writeSmallCorpus(in: dir)
        expectCleanFailure(try CharNNBinary.run(["train", corpus, "--out", corpus]), mentions: ["--out", corpus, "not a directory"], status: 64)
        expectCleanFailure(try CharNNBinary.run(["train", corpus, "--out", "/proc/charnn-run"]), mentions: ["--out", "cannot create /proc/charnn-run"], status: 64)
        #expect(try String(contentsOfFile: corpus, encoding: .utf8).hasPrefix("The quick"))
    }
}
