/// Why data-parallel training could not start or go on; each description is one line.
public enum DistributedError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Started by a launcher with several ranks, but MPI's library could not be opened.
    case libraryMissing(name: String, reason: String)
    /// The library opened is not Open MPI's (it lacks one of its symbols).
    case notOpenMPI(name: String, missing: String)
    /// An MPI call returned an error.
    case callFailed(call: String, code: Int)
    /// The launcher's rank count disagrees with MPI's, or another launcher than Open MPI's started us.
    case unsupportedLauncher(String)
    /// More ranks than streams: each rank needs at least one of the B streams.
    case tooManyRanks(ranks: Int, batch: Int)
    /// The ranks read different corpora or checkpoints.
    case ranksDisagree(String)
    /// Another rank failed to start (its own error is printed by that rank).
    case peerFailed(rank: Int)

    /// The error as one line, saying what to do about it.
    public var description: String {
        switch self {
        case .libraryMissing(let name, let reason):
            return "started by mpirun with several ranks, but Open MPI's library \(name) could not be loaded (\(reason)); install it with apt-get install openmpi-bin, or name the file with CHARNN_LIBMPI"
        case .notOpenMPI(let name, let missing):
            return "\(name) is not Open MPI's library (it has no \(missing)); charnn's data-parallel training needs Open MPI 4 or 5 (apt-get install openmpi-bin)"
        case .callFailed(let call, let code):
            return "\(call) failed with MPI error \(code)"
        case .unsupportedLauncher(let detail):
            return detail
        case .tooManyRanks(let ranks, let batch):
            return "--batch \(batch) is fewer streams than the \(ranks) ranks; each rank needs at least one (use --batch \(ranks) or more)"
        case .ranksDisagree(let detail):
            return "the ranks disagree: \(detail)"
        case .peerFailed(let rank):
            return "stopping: rank \(rank) failed to start (its error is above)"
        }
    }
}
