import ArgumentParser
import CharNN

/// `charnn train` under `mpirun -np N`: joining the ranks, and errors printed once.
enum DistributedTraining {
    /// The group this process was launched in (``ProcessGroup/single`` without mpirun). When MPI
    /// cannot be used, one line from rank 0 (every rank fails the same way) and exit status 1.
    static func joinGroup() throws -> ProcessGroup {
        do {
            return try ProcessGroup.launched()
        } catch {
            let rank = ProcessGroup.processEnvironment()["OMPI_COMM_WORLD_RANK"].flatMap(Int.init) ?? 0
            if rank == 0 { printDiagnostic(error.description) }
            throw ExitCode(CLIError.failure)
        }
    }

    /// As the global ``reportingErrors(_:)``, but a rank other than 0 says which it is, and stays
    /// silent when it stops only because another rank failed to start (that rank prints why).
    /// Such a rank exits 0: the group is finished by then (``TrainingRun``'s start), so mpirun
    /// returns the failing rank's status, e.g. 75 for a run directory in use, not this rank's.
    static func reportingErrors(_ group: ProcessGroup, _ body: () throws -> Void) throws {
        guard group.size > 1 else { return try CharNNCLI.reportingErrors(body) }
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch {
            let cli = CLIError(reporting: error)
            if case .peerFailed? = error as? DistributedError {
                if group.isRoot { printDiagnostic(cli.message) }
                throw ExitCode.success
            }
            printDiagnostic(group.isRoot ? cli.message : "rank \(group.rank): \(cli.message)")
            throw ExitCode(cli.exitCode)
        }
    }

    /// The closing note of a data-parallel run: ranks and time in the gradient allreduce.
    static func summary(of trainer: Trainer) -> String {
        let seconds = trainer.communicationSeconds
        let perStep = trainer.state.step > 0 ? seconds / Double(trainer.state.step) * 1000 : 0
        return "Data-parallel over \(trainer.group.size) ranks; rank 0 spent \(String(format: "%.1f", seconds)) s in the gradient allreduce (\(String(format: "%.2f", perStep)) ms per step)"
    }
}
