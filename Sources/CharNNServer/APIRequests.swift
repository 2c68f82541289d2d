import CharNN

/// `POST /v1/generate`'s body, checked: every field's type and range, against the server's limits.
struct GenerateRequest: Equatable {
    static let fields: Set<String> = ["prime", "length", "temperature", "top_k", "top_p", "seed", "stream", "skip_unknown"]
    /// Symbols to generate when the request gives no length.
    static let defaultLength = 200

    var prime = ""
    var length = defaultLength
    var options = SamplingOptions()
    /// The seed given, or nil for a random one (reported back to the client).
    var seed: UInt64?
    var stream = true
    var skipUnknown = false

    init(fields: [String: JSONValue], configuration: ServerConfiguration) throws(RequestError) {
        let reader = FieldReader(fields: fields)
        try reader.rejectUnknown(Self.fields)
        prime = try reader.string("prime") ?? ""
        guard prime.utf8.count <= configuration.maxTextBytes else {
            throw RequestError(field: "prime", message: "prime is \(prime.utf8.count) bytes, over the limit of \(configuration.maxTextBytes)")
        }
        length = try reader.integer("length") ?? Self.defaultLength
        guard (0...configuration.maxLength).contains(length) else {
            throw RequestError(field: "length", message: "length must be from 0 to \(configuration.maxLength) (the server's --max-length), got \(length)")
        }
        let temperature = try reader.number("temperature") ?? 1
        guard temperature.isFinite && temperature > 0 && temperature <= 100 else {
            throw RequestError(field: "temperature", message: "temperature must be above 0 and at most 100, got \(temperature)")
        }
        let topK = try reader.integer("top_k")
        if let topK, topK < 1 { throw RequestError(field: "top_k", message: "top_k must be at least 1, got \(topK)") }
        let topP = try reader.number("top_p")
        if let topP, !(topP > 0 && topP <= 1) { throw RequestError(field: "top_p", message: "top_p must be above 0 and at most 1, got \(topP)") }
        options = SamplingOptions(temperature: temperature, topK: topK, topP: topP)
        seed = try reader.unsigned("seed")
        stream = try reader.bool("stream") ?? true
        skipUnknown = try reader.bool("skip_unknown") ?? false
    }
}

/// `POST /v1/score`'s body: the text to score.
struct ScoreRequest: Equatable {
    static let fields: Set<String> = ["text"]
    var text: String

    init(fields: [String: JSONValue], configuration: ServerConfiguration) throws(RequestError) {
        let reader = FieldReader(fields: fields)
        try reader.rejectUnknown(Self.fields)
        guard let text = try reader.string("text") else { throw RequestError(field: "text", message: "text is required") }
        guard text.utf8.count <= configuration.maxTextBytes else {
            throw RequestError(field: "text", message: "text is \(text.utf8.count) bytes, over the limit of \(configuration.maxTextBytes)")
        }
        self.text = text
    }
}
