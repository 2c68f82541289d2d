import Foundation

/// The safetensors container: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian tensor bytes. Any safetensors
/// reader (Python's `safetensors`, PyTorch, Rust's crate) opens what this writes.
@_spi(Internals) public struct SafeTensorsFile: Sendable {
    /// Element types charnn reads and writes.
    public enum DType: String, Sendable, Codable {
        case f32 = "F32", f64 = "F64", i32 = "I32", i64 = "I64", u8 = "U8"

        public var byteSize: Int {
            switch self {
            case .f32, .i32: 4
            case .f64, .i64: 8
            case .u8: 1
            }
        }
    }

    /// One tensor: its element type, shape and raw little-endian bytes.
    public struct Tensor: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public var elementCount: Int { shape.reduce(1, *) }

        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public init(_ values: [Float], shape: [Int]) {
            self.init(dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
        }

        /// The values as Float, converting from F64 or the integer types.
        public func floats() -> [Float] {
            switch dtype {
            case .f32: return load(Float.self)
            case .f64: return load(Double.self).map { Float($0) }
            case .i32: return load(Int32.self).map { Float($0) }
            case .i64: return load(Int64.self).map { Float($0) }
            case .u8: return bytes.map { Float($0) }
            }
        }

        /// The values as Double (exact for F32 and F64).
        public func doubles() -> [Double] {
            switch dtype {
            case .f32: return load(Float.self).map { Double($0) }
            case .f64: return load(Double.self)
            case .i32: return load(Int32.self).map { Double($0) }
            case .i64: return load(Int64.self).map { Double($0) }
            case .u8: return bytes.map { Double($0) }
            }
        }

        /// The values as Int64, for the integer types.
        public func integers() -> [Int64]? {
            switch dtype {
            case .i32: return load(Int32.self).map { Int64($0) }
            case .i64: return load(Int64.self)
            case .u8: return bytes.map { Int64($0) }
            case .f32, .f64: return nil
            }
        }

        // The bytes are little-endian, as is every platform Swift on Linux runs on.
        private func load<T>(_ type: T.Type) -> [T] {
            bytes.withUnsafeBytes { raw in
                (0..<elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
            }
        }
    }

    /// Tensors in file order.
    public var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` string map.
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
}
