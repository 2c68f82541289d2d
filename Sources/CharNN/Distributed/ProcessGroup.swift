#if canImport(Glibc)
import Glibc
#endif

/// The processes that train one model together: a single process, or the ranks an `mpirun`
/// started. Every collective call here must be made by every rank, in the same order; with one
/// process each is a no-op, so single-process training runs exactly the code it always ran.
///
/// ```swift
/// let group = try ProcessGroup.launched()   // .single unless started by mpirun -np N, N > 1
/// if group.isRoot { print("rank 0 of \(group.size)") }
/// ```
public struct ProcessGroup: Sendable {
    /// This process's number, 0 ..< ``size``.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    private let mpi: MPILibrary?

    /// One process alone: collectives return their input.
    public static let single = ProcessGroup(rank: 0, size: 1, mpi: nil)

    private init(rank: Int, size: Int, mpi: MPILibrary?) {
        self.rank = rank
        self.size = size
        self.mpi = mpi
    }

    /// Rank 0: the one that writes checkpoints, logs and progress.
    public var isRoot: Bool { rank == 0 }

    /// The group this process was started in. Without a launcher's environment, or with one rank,
    /// ``single`` (MPI is not even loaded). Under Open MPI's `mpirun -np N` with N > 1, opens
    /// libmpi (loaded at run time) and initializes it; throws a one-line ``DistributedError`` when it
    /// cannot, saying what to install.
    public static func launched(environment: [String: String] = Self.processEnvironment()) throws(DistributedError) -> ProcessGroup {
        let openMPISize = environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init)
        if openMPISize == nil, let other = environment["PMI_SIZE"].flatMap(Int.init), other > 1 {
            throw .unsupportedLauncher("started by an MPI launcher other than Open MPI's mpirun (PMI_SIZE=\(other)); charnn's data-parallel training needs Open MPI 4 or 5 (apt-get install openmpi-bin)")
        }
        guard let expected = openMPISize, expected > 1 else { return .single }
        let mpi = try MPILibrary(name: environment["CHARNN_LIBMPI"] ?? MPILibrary.defaultName)
        let (rank, size) = try mpi.initialize()
        guard size == expected else {
            throw .unsupportedLauncher("mpirun started \(expected) ranks but MPI reports \(size)")
        }
        return ProcessGroup(rank: rank, size: size, mpi: mpi)
    }

    /// The process's environment variables.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    /// Ends MPI cleanly (every rank, after the last collective), so mpirun reports each rank's own
    /// exit status; a second call does nothing.
    public func finish() { mpi?.finalize() }

    /// This rank's streams among `batch`: contiguous and balanced (⌊B·r/N⌋ ..< ⌊B·(r+1)/N⌋).
    public func streamShare(batch: Int) -> Range<Int> {
        (batch * rank / size)..<(batch * (rank + 1) / size)
    }

    // MARK: Collectives (every rank, same order)

    /// values ← Σ over ranks of values, element-wise.
    func sum(_ values: inout [Float]) throws {
        guard let mpi else { return }
        try values.withUnsafeMutableBytes { (raw) throws in
            try mpi.allreduceInPlace(raw.baseAddress!, count: raw.count / 4, elementSize: 4, type: mpi.float, op: mpi.sum)
        }
    }

    /// values ← Σ over ranks of values, element-wise.
    func sum(_ values: inout [Double]) throws {
        guard let mpi, !values.isEmpty else { return }
        try values.withUnsafeMutableBytes { (raw) throws in
            try mpi.allreduceInPlace(raw.baseAddress!, count: raw.count / 8, elementSize: 8, type: mpi.double, op: mpi.sum)
        }
    }

    /// values ← max over ranks of values, element-wise.
    func maximum(_ values: inout [Double]) throws {
        guard let mpi, !values.isEmpty else { return }
        try values.withUnsafeMutableBytes { (raw) throws in
            try mpi.allreduceInPlace(raw.baseAddress!, count: raw.count / 8, elementSize: 8, type: mpi.double, op: mpi.max)
        }
    }

    /// Rank 0's `value`, on every rank: for decisions rank 0 takes from its clock.
    func broadcast(_ value: Double) throws -> Double {
        guard let mpi else { return value }
        var copy = value
        try withUnsafeMutableBytes(of: &copy) { (raw) throws in try mpi.broadcast(raw.baseAddress!, bytes: 8) }
        return copy
    }

    /// True on every rank if any rank passes true.
    func any(_ flag: Bool) throws -> Bool {
        var values = [flag ? 1.0 : 0]
        try maximum(&values)
        return values[0] != 0
    }

    /// The lowest rank that passed false, or nil if every rank passed true: for a start that
    /// must fail everywhere if it fails anywhere.
    func firstFailure(_ ok: Bool) throws -> Int? {
        var values = [ok ? 0 : Double(size - rank)]   // the largest is the lowest failing rank's
        try maximum(&values)
        return values[0] == 0 ? nil : size - Int(values[0])
    }
}
