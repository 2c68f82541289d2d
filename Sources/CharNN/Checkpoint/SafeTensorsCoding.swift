import Foundation

/// Why a byte sequence is not a safetensors file; each case reads as one line.
@_spi(Internals) public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case headerLength(UInt64, fileSize: Int)
    case headerNotJSON(String)
    case badEntry(String, String)

    public var description: String {
        switch self {
        case .tooShort(let n): "not a safetensors file: \(n) bytes is shorter than its 8-byte header length"
        case .headerLength(let n, let size): "not a safetensors file: header length \(n) does not fit in a file of \(size) bytes"
        case .headerNotJSON(let why): "not a safetensors file: the header is not a JSON object (\(why))"
        case .badEntry(let name, let why): "safetensors tensor '\(name)': \(why)"
        }
    }
}

extension SafeTensorsFile {
    /// Headers larger than this are refused before being read: charnn's own stay far below it.
    public static let maximumHeaderLength = 64 << 20

    /// Parses a whole safetensors file, checking every offset against the data section.
    public init(bytes: [UInt8]) throws(SafeTensorsError) {
        guard bytes.count >= 8 else { throw .tooShort(bytes.count) }
        let length = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length >= 2, length <= UInt64(Self.maximumHeaderLength), length <= UInt64(bytes.count - 8) else {
            throw .headerLength(length, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(length)
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) as? [String: Any] else {
                throw SafeTensorsError.headerNotJSON("top level is not an object")
            }
            object = parsed
        } catch let error as SafeTensorsError {
            throw error
        } catch {
            throw .headerNotJSON("invalid JSON")
        }
        let dataCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, begin: Int, tensor: Tensor)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: String] else { throw .badEntry(name, "metadata must map strings to strings") }
                metadata = map
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any],
                  let offsetValues = entry["data_offsets"] as? [Any], offsetValues.count == 2
            else { throw .badEntry(name, "needs dtype, shape and two data_offsets") }
            guard let dtype = DType(rawValue: dtypeName) else { throw .badEntry(name, "unsupported dtype \(dtypeName)") }
            let shape = try shapeValues.map { (v) throws(SafeTensorsError) -> Int in
                guard let n = v as? Int, n >= 0, n < 1 << 40 else { throw .badEntry(name, "shape must hold non-negative integers") }
                return n
            }
            guard let begin = offsetValues[0] as? Int, let end = offsetValues[1] as? Int,
                  begin >= 0, begin <= end, end <= dataCount else {
                throw .badEntry(name, "data_offsets lie outside the \(dataCount) data bytes")
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, n in
                let (product, o) = acc.0.multipliedReportingOverflow(by: n)
                return (product, acc.1 || o)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: dtype.byteSize) == (end - begin, false) else {
                throw .badEntry(name, "shape \(shape) of \(dtypeName) does not match its \(end - begin) bytes")
            }
            let slice = Array(bytes[(headerEnd + begin)..<(headerEnd + end)])
            entries.append((name, begin, Tensor(dtype: dtype, shape: shape, bytes: slice)))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        self.init(tensors: entries.map { ($0.name, $0.tensor) }, metadata: metadata)
    }

    /// Reads and parses a file.
    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        try self.init(bytes: [UInt8](data))
    }

    /// Serializes with tensors in their array order and a header padded with spaces to a
    /// multiple of 8 bytes, so every tensor stays 8-byte aligned when memory-mapped.
    public func serialized() -> [UInt8] {
        var header = "{"
        var offset = 0
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        for (name, tensor) in tensors {
            let end = offset + tensor.bytes.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        out += headerBytes
        for (_, tensor) in tensors { out += tensor.bytes }
        return out
    }
}
