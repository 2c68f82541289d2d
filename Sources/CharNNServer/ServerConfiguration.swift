/// What `charnn serve` listens on and the limits it puts on requests.
public struct ServerConfiguration: Sendable, Equatable {
    /// The address to bind. Loopback unless another address is given explicitly.
    public var host: String
    /// The TCP port; 0 asks the system for a free one (the bound port is reported once listening).
    public var port: Int
    /// The largest `length` a generation may ask for, in symbols.
    public var maxLength: Int
    /// The largest request body accepted, in bytes; a larger one gets 413.
    public var maxBodyBytes: Int
    /// The most generations that may run at once; one more gets 503.
    public var maxStreams: Int
    /// The largest prime or scored text, in bytes of UTF-8 (it must also fit in ``maxBodyBytes``).
    public var maxTextBytes: Int

    /// The defaults `charnn serve` uses: loopback, port 8080, 2000 symbols, 64 KiB bodies, 256 streams.
    public init(host: String = "127.0.0.1", port: Int = 8080, maxLength: Int = 2000, maxBodyBytes: Int = 64 << 10,
                maxStreams: Int = 256, maxTextBytes: Int = 32 << 10) {
        self.host = host
        self.port = port
        self.maxLength = maxLength
        self.maxBodyBytes = maxBodyBytes
        self.maxStreams = maxStreams
        self.maxTextBytes = maxTextBytes
    }
}
