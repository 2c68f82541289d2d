@_spi(Internals) @testable import CharNN
import Testing

/// Continuous batching keeps live streams in the first rows of one ``InferenceStep``: a stream
/// joins by loading its state into the next free row, leaves by having the last row moved into
/// its place, and a step covers only the live rows. Each row must then compute exactly what a
/// stream of its own would: compared here, within rounding, with one single-stream step per row.
@Suite("Sampling: the rows of a batched step")
struct InferenceStepRowTests {
    let config = ModelConfig(vocabularySize: 13, embeddingSize: 6, hiddenSize: 32, layers: 2)

    /// The logits of one stream of its own from `state` after `token`.
    func alone(_ model: CharModel, _ state: RecurrentState?, _ token: Int32) throws -> [Float] {
        let step = try InferenceStep(model: model, streams: 1, precision: .float32)
        if let state { step.load(broadcasting: state) }
        [token].withUnsafeBufferPointer { step.step($0) }
        return Array(UnsafeBufferPointer(start: step.logits, count: config.vocabularySize))
    }

    func row(_ step: InferenceStep, _ n: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: step.logits + n * config.vocabularySize, count: config.vocabularySize))
    }

    func gap(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    @Test("load(_:intoStream:), moveStream and step(rows:) give each row its own stream's logits")
    func rowsAreIndependentStreams() throws {
        let model = try CharModel(config: config, seed: 5)
        let states = try [[1, 2, 3], [4, 5, 6, 7, 8], [9, 10]].map { try Sampler.state(after: ArraySlice($0.map(Int32.init)), model: model) }
        let batch = try InferenceStep(model: model, streams: 6, precision: .float32)
        for (n, state) in states.enumerated() { batch.load(state, intoStream: n) }
        batch.load(nil, intoStream: 3)
        [Int32(0), 1, 2, 3].withUnsafeBufferPointer { batch.step($0, rows: 4) }
        for n in 0..<3 { #expect(gap(row(batch, n), try alone(model, states[n], Int32(n))) < 1e-5, "row \(n)") }
        #expect(gap(row(batch, 3), try alone(model, nil, 3)) < 1e-5, "a row loaded with nil starts from zero")

        // Row 1 leaves: the last live row (3) moves into its place; the step then covers rows 0–2.
        // Each row continues its own stream: compare with two steps of a stream of its own.
        func twoSteps(_ state: RecurrentState?, _ first: Int32, _ second: Int32) throws -> [Float] {
            let step = try InferenceStep(model: model, streams: 1, precision: .float32)
            if let state { step.load(broadcasting: state) }
            [first].withUnsafeBufferPointer { step.step($0) }
            [second].withUnsafeBufferPointer { step.step($0) }
            return Array(UnsafeBufferPointer(start: step.logits, count: config.vocabularySize))
        }
        batch.moveStream(from: 3, to: 1)
        [Int32(7), 8, 9].withUnsafeBufferPointer { batch.step($0, rows: 3) }
        #expect(gap(row(batch, 0), try twoSteps(states[0], 0, 7)) < 1e-5)
        #expect(gap(row(batch, 1), try twoSteps(nil, 3, 8)) < 1e-5, "the moved stream goes on from its own state")
        #expect(gap(row(batch, 2), try twoSteps(states[2], 2, 9)) < 1e-5)
        // And the comparison sees a mix-up: row 1 is not the stream that left.
        #expect(gap(row(batch, 1), try twoSteps(states[1], 1, 8)) > 1e-3)
    }

    @Test("at int8, one batched step gives every row the bits of its stream stepped alone", arguments: RecurrentCell.allCases)
    func int8RowsMatchSingleStreams(cell: RecurrentCell) throws {
        // H = 96 and V = 40: gates of 3 or 4 · 96 columns span several 32-column panels and a partial one.
        let config = ModelConfig(vocabularySize: 40, embeddingSize: 6, hiddenSize: 96, layers: 2, cell: cell)
        let model = try CharModel(config: config, seed: 9)
        let streams = 5, V = config.vocabularySize
        let states = try (0..<streams).map { n in
            try Sampler.state(after: ArraySlice((0...n).map { Int32(($0 * 7 + n) % V) }), model: model)
        }
        let batch = try InferenceStep(model: model, streams: streams, precision: .int8)
        for (n, state) in states.enumerated() { batch.load(state, intoStream: n) }
        let tokens = (0..<streams).map { Int32(($0 * 11) % V) }
        for _ in 0..<2 { tokens.withUnsafeBufferPointer { batch.step($0, rows: streams) } }
        for n in 0..<streams {
            let alone = try InferenceStep(model: model, streams: 1, precision: .int8)
            alone.load(broadcasting: states[n])
            for _ in 0..<2 { [tokens[n]].withUnsafeBufferPointer { alone.step($0) } }
            let mine = Array(UnsafeBufferPointer(start: alone.logits, count: V))
            let theirs = Array(UnsafeBufferPointer(start: batch.logits + n * V, count: V))
            #expect(mine == theirs, "\(cell) row \(n): the batched int8 step differs from the stream's own")
        }
        // The rows are different streams: the comparison can tell them apart.
        let first = Array(UnsafeBufferPointer(start: batch.logits, count: V))
        #expect(first != Array(UnsafeBufferPointer(start: batch.logits + V, count: V)))
    }
}
