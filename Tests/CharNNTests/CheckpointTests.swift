import CKernels
@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Checkpoints: safetensors round trip and damage detection")
struct CheckpointTests {
    /// A checkpoint with every part filled: weights, Adam moments, training state and carried state.
    static func fullCheckpoint(cell: RecurrentCell = .lstm) throws -> Checkpoint {
        let corpus = try Tokenizer.build(text: "hello, wörld! 👋🏽 hello again\r\n")
        var options = TrainingOptions()
        options.batch = 2
        options.sequenceLength = 3
        options.layers = 2
        options.hiddenSize = 5
        options.embeddingSize = 3
        options.cell = cell
        let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens, validationFraction: 0.1, fileName: "t.txt")
        let trainer = try Trainer(data: data, options: options)
        for _ in 0..<3 { try trainer.step() }
        return trainer.checkpoint()
    }

    @Test("everything written is read back bit for bit")
    func roundTrip() throws {
        let original = try Self.fullCheckpoint()
        let bytes = original.serialized()
        let loaded = try Checkpoint(bytes: bytes)
        #expect(loaded.model == original.model)
        #expect(loaded.tokenizer == original.tokenizer)
        #expect(loaded.optimizer == original.optimizer)
        #expect(loaded.training == original.training)
        #expect(loaded.carriedState == original.carriedState)
        #expect(loaded.optimizer?.stepCount == 3 && loaded.training?.step == 3)
        // Serializing again gives the same bytes: the format is deterministic.
        #expect(loaded.serialized() == bytes)
        let weights = try Checkpoint(bytes: original.weightsOnly.serialized())
        #expect(weights.model == original.model && weights.optimizer == nil && weights.training == nil)
    }

    @Test("the file is plain safetensors with PyTorch names and charnn metadata")
    func layout() throws {
        let bytes = try Self.fullCheckpoint().serialized()
        let file = try SafeTensorsFile(bytes: bytes)
        // The header is padded with spaces to a multiple of 8 bytes, as the safetensors format
        // asks, so the tensor data starts 8-byte aligned for readers that map the file.
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0, "header of \(headerLength) bytes")
        #expect(bytes[8 + headerLength - 1] == UInt8(ascii: "}") || bytes[8 + headerLength - 1] == UInt8(ascii: " "))
        let names = file.tensors.map(\.name)
        #expect(names.first == "embedding.weight")
        #expect(names.contains("lstm.weight_hh_l1") && names.contains("head.bias"))
        #expect(names.contains("optimizer.exp_avg.lstm.weight_ih_l0") && names.contains("optimizer.exp_avg_sq.head.weight"))
        #expect(names.contains("training.state_h"))
        #expect(file.metadata["format"] == "charnn.checkpoint" && file.metadata["format_version"] == "4")
        #expect(file.metadata["tensor_crc32c"]?.count == 8)
        #expect(file.metadata[MetadataChecksum.key] == MetadataChecksum.compute(file.metadata))
    }

    @Test("GRU and RNN checkpoints hold their module's tensors and model.cell, and read back bit for bit",
          arguments: [RecurrentCell.gru, .rnn])
    func otherCells(cell: RecurrentCell) throws {
        let original = try Self.fullCheckpoint(cell: cell)
        let bytes = original.serialized()
        let file = try SafeTensorsFile(bytes: bytes)
        let names = Set(file.tensors.map(\.name))
        let G = cell.gateCount
        #expect(names.contains("\(cell.rawValue).weight_ih_l0") && names.contains("\(cell.rawValue).bias_hh_l1"))
        #expect(!names.contains { $0.contains("lstm.") })
        #expect(file["\(cell.rawValue).weight_hh_l1"]?.shape == [G * 5, 5])
        #expect(file.metadata["model"]?.contains("\"cell\":\"\(cell.rawValue)\"") == true)
        let loaded = try Checkpoint(bytes: bytes)
        #expect(loaded.model == original.model && loaded.model.config.cell == cell)
        #expect(loaded.optimizer == original.optimizer && loaded.carriedState == original.carriedState)
        #expect(loaded.serialized() == bytes)
    }

    @Test("a file without model.cell (before format version 4) is an LSTM; an unknown cell is refused")
    func cellInMetadata() throws {
        var file = try SafeTensorsFile(bytes: Self.fullCheckpoint().serialized())
        let model = file.metadata["model"]!
        file.metadata["model"] = model.replacingOccurrences(of: ",\"cell\":\"lstm\"", with: "")
            .replacingOccurrences(of: "\"cell\":\"lstm\",", with: "")
        #expect(file.metadata["model"]?.contains("cell") == false)
        file.metadata["format_version"] = "3"
        file.metadata = MetadataChecksum.sealed(file.metadata)
        #expect(try Checkpoint(bytes: file.serialized()).model.config.cell == .lstm)
        file.metadata["model"] = model.replacingOccurrences(of: "\"lstm\"", with: "\"transformer\"")
        file.metadata = MetadataChecksum.sealed(file.metadata)
        #expect {
            try Checkpoint(bytes: file.serialized(), path: "x.safetensors")
        } throws: { error in
            (error as? CheckpointError)?.description == "x.safetensors: damaged or inconsistent checkpoint: metadata model is malformed"
        }
        // A GRU's tensors under an LSTM's config are missing by name, not misread.
        var gru = try SafeTensorsFile(bytes: Self.fullCheckpoint(cell: .gru).serialized())
        gru.metadata["model"] = gru.metadata["model"]!.replacingOccurrences(of: "\"gru\"", with: "\"lstm\"")
        gru.metadata = MetadataChecksum.sealed(gru.metadata)
        #expect(throws: CheckpointError.self) { try Checkpoint(bytes: gru.serialized()) }
    }

    @Test("a flipped bit in the tensor data fails the checksum")
    func bitFlip() throws {
        var bytes = try Self.fullCheckpoint().serialized()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<20 {
            let index = 8 + headerLength + Int(rng.next() % UInt64(bytes.count - 8 - headerLength))
            let bit: UInt8 = 1 << UInt8(rng.next() % 8)
            bytes[index] ^= bit
            defer { bytes[index] ^= bit }
            #expect {
                try Checkpoint(bytes: bytes, path: "x.safetensors")
            } throws: { error in
                guard case CheckpointError.checksumMismatch(path: "x.safetensors", _, _) = error else { return false }
                return true
            }
        }
    }

    @Test("every truncation is refused with a clear error, never a crash")
    func truncation() throws {
        let bytes = try Self.fullCheckpoint().serialized()
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 400)) {
            #expect(throws: CheckpointError.self) { try Checkpoint(bytes: Array(bytes[0..<length])) }
        }
    }

    @Test("foreign, future and inconsistent files are told apart")
    func foreignFiles() throws {
        let plain = SafeTensorsFile(tensors: [("w", .init([1, 2], shape: [2]))], metadata: [:]).serialized()
        #expect(throws: CheckpointError.notCharNN(path: "p")) { try Checkpoint(bytes: plain, path: "p") }
        #expect(throws: CheckpointError.self) { try Checkpoint(bytes: Array("hello, not a checkpoint".utf8), path: "p") }

        var file = try SafeTensorsFile(bytes: try Self.fullCheckpoint().serialized())
        file.metadata["format_version"] = "99"
        #expect(throws: CheckpointError.unsupportedVersion(path: "p", version: "99")) { try Checkpoint(bytes: file.serialized(), path: "p") }

        // A tensor whose shape disagrees with the config.
        var wrong = try SafeTensorsFile(bytes: try Self.fullCheckpoint().serialized())
        let index = try #require(wrong.tensors.firstIndex { $0.name == "head.bias" })
        wrong.tensors[index].tensor = .init([Float](repeating: 0, count: 3), shape: [3])
        wrong.metadata["tensor_crc32c"] = MetadataChecksum.tensorChecksum(wrong.tensors)
        #expect { try Checkpoint(bytes: SafeTensorsFile(tensors: wrong.tensors, metadata: MetadataChecksum.sealed(wrong.metadata)).serialized(), path: "p") } throws: { error in
            guard case CheckpointError.invalid(path: "p", let reason) = error else { return false }
            return reason.contains("head.bias")
        }
    }

    @Test("a header length of 2^63 or beyond the file is refused before allocating")
    func hugeHeaderLength() {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes[7] = 0x80  // 2^63
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: bytes) }
        bytes[7] = 0
        bytes[0] = 100
        #expect(throws: SafeTensorsError.headerLength(100, fileSize: 16)) { try SafeTensorsFile(bytes: bytes) }
    }

    @Test("CRC-32C matches the standard check value")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    // The process computes CRC-32C with SSE4.2; CHARNN_SIMD=baseline takes the table instead (the
    // level is per process, so only a child can run it). The child verifies what this process
    // wrote and writes a copy this process verifies: a wrong table would fail one or the other.
    @Test("the table CRC-32C (CHARNN_SIMD=baseline) agrees with the SSE4.2 one, both ways",
          .enabled(if: ck_cpu_simd_level() != 0, "needs AVX2 or AVX-512 (and so SSE4.2): on a baseline CPU both sides take the table, which crc() checks"),
          .timeLimit(.minutes(3)))  // a child process
    func crcTableAgrees() throws {
        let dir = try temporaryDirectory("crc-table")
        let path = dir + "/full.safetensors", copy = dir + "/copy.safetensors"
        try Self.fullCheckpoint().write(to: path)
        let result = try CharNNBinary.run(["export", path, copy], environment: ["CHARNN_SIMD": "baseline"])
        #expect(result.status == 0, "\(result.stderr)")
        let exported = try Checkpoint.load(from: copy)
        #expect(exported.model == (try Checkpoint.load(from: path)).model)
    }

    @Test("an atomic write replaces the file whole and leaves no temporary behind")
    func atomicWrite() throws {
        let dir = try temporaryDirectory("atomic")
        let path = dir + "/file.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write([4, 5], to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([4, 5]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["file.bin"])
        #expect(throws: FileWriteError.self) { try AtomicFile.write([1], to: dir + "/missing/file.bin") }
    }
}
