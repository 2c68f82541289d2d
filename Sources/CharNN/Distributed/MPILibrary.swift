#if canImport(Glibc)
import Glibc
#endif

/// Open MPI's C library, loaded at run time with dlopen rather than linked: one charnn binary runs
/// alone without MPI installed, and under `mpirun` when it is (docs/distributed.md says why this
/// beats a build-time trait). Only the calls data-parallel training needs are bound.
///
/// The handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, …) are Open MPI's: in its ABI each is the
/// address of an exported global (`ompi_mpi_comm_world`, …), found with dlsym. MPICH's are integer
/// constants instead, so MPICH is refused when the library is opened (no `ompi_mpi_comm_world`).
final class MPILibrary: @unchecked Sendable {  // immutable after init but `finalized`; MPI itself is called from one thread
    typealias Handle = UnsafeMutableRawPointer
    private typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    private typealias CommQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    private typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    private typealias Bcast = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    private typealias NoArguments = @convention(c) () -> Int32

    /// The soname Debian's `libopenmpi3` installs (Open MPI 4.x and 5.x keep it); `CHARNN_LIBMPI`
    /// names another file.
    static let defaultName = "libmpi.so.40"

    let comm: Handle, float: Handle, double: Handle, byte: Handle, sum: Handle, max: Handle
    /// `MPI_IN_PLACE` in Open MPI.
    static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }
    private let initThread: InitThread, commRank: CommQuery, commSize: CommQuery
    private let allreduce: Allreduce, bcast: Bcast, finalizeCall: NoArguments

    /// Opens the library; the message says what is missing, for a one-line error.
    init(name: String) throws(DistributedError) {
        // RTLD_GLOBAL: Open MPI's own plugins, which it dlopens, resolve their symbols in libmpi.
        guard let library = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw .libraryMissing(name: name, reason: reason)
        }
        func symbol(_ symbol: String) throws(DistributedError) -> Handle {
            guard let address = dlsym(library, symbol) else { throw .notOpenMPI(name: name, missing: symbol) }
            return address
        }
        comm = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        byte = try symbol("ompi_mpi_byte")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        initThread = unsafeBitCast(try symbol("MPI_Init_thread"), to: InitThread.self)
        commRank = unsafeBitCast(try symbol("MPI_Comm_rank"), to: CommQuery.self)
        commSize = unsafeBitCast(try symbol("MPI_Comm_size"), to: CommQuery.self)
        allreduce = unsafeBitCast(try symbol("MPI_Allreduce"), to: Allreduce.self)
        bcast = unsafeBitCast(try symbol("MPI_Bcast"), to: Bcast.self)
        finalizeCall = unsafeBitCast(try symbol("MPI_Finalize"), to: NoArguments.self)
    }

    /// MPI_Init_thread with MPI_THREAD_FUNNELED: only the thread that trains calls MPI; the
    /// other threads (the second half's, OpenBLAS's) never do. Returns (rank, size).
    func initialize() throws(DistributedError) -> (rank: Int, size: Int) {
        var provided: Int32 = 0
        try check(initThread(nil, nil, 1, &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try check(commRank(comm, &rank), "MPI_Comm_rank")
        try check(commSize(comm, &size), "MPI_Comm_size")
        return (Int(rank), Int(size))
    }

    /// In-place allreduce of `count` elements of `type` at `buffer` with `op`, in pieces of at
    /// most 2^30 elements (MPI counts are 32-bit).
    func allreduceInPlace(_ buffer: UnsafeMutableRawPointer, count: Int, elementSize: Int, type: Handle, op: Handle) throws(DistributedError) {
        var done = 0
        while done < count {
            let piece = Swift.min(count - done, 1 << 30)
            try check(allreduce(Self.inPlace, buffer + done * elementSize, Int32(piece), type, op, comm), "MPI_Allreduce")
            done += piece
        }
    }

    /// Broadcasts `count` bytes at `buffer` from rank 0.
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes count: Int) throws(DistributedError) {
        var done = 0
        while done < count {
            let piece = Swift.min(count - done, 1 << 30)
            try check(bcast(buffer + done, Int32(piece), byte, 0, comm), "MPI_Bcast")
            done += piece
        }
    }

    /// Set by the first ``finalize()``: MPI_Finalize may be called once only.
    private var finalized = false

    /// MPI_Finalize, once; later calls do nothing.
    func finalize() {
        guard !finalized else { return }
        finalized = true
        _ = finalizeCall()
    }

    private func check(_ code: Int32, _ call: String) throws(DistributedError) {
        // MPI's default error handler aborts the job before returning an error; this is for
        // one installed to return.
        if code != 0 { throw .callFailed(call: call, code: Int(code)) }
    }
}
