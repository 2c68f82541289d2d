import Foundation

/// The files of one training run: `latest.safetensors`, `best.safetensors`, `log.jsonl` and
/// `loss.svg` in one directory (by default `checkpoints/<corpus file stem>/`).
public struct RunDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `checkpoints/<stem>` for a corpus path, e.g. `checkpoints/tinyshakespeare` for
    /// `data/tinyshakespeare.txt`.
    public static func defaultPath(forCorpus corpus: String) -> String {
        let name = URL(fileURLWithPath: corpus).deletingPathExtension().lastPathComponent
        return "checkpoints/" + (name.isEmpty ? "run" : name)
    }

    public var latest: String { path + "/latest.safetensors" }
    public var best: String { path + "/best.safetensors" }
    public var log: String { path + "/log.jsonl" }
    public var plot: String { path + "/loss.svg" }

    /// True when the directory already holds any file of a run.
    public var holdsRun: Bool {
        [latest, best, log, plot].contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// How an existing run directory is treated.
    public enum OpenMode: Sendable { case fresh, resume, force }

    /// Checks the directory against the mode and creates it; never deletes anything but, with
    /// `.force`, the four files of the previous run.
    public func prepare(_ mode: OpenMode) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw TrainingError.invalidOption("--out: \(path) exists and is not a directory")
        }
        switch mode {
        case .fresh:
            if holdsRun { throw TrainingError.runDirectoryExists(path) }
        case .resume:
            guard FileManager.default.fileExists(atPath: latest) else { throw TrainingError.noCheckpointToResume(path) }
        case .force:
            for file in [latest, best, log, plot] { try? FileManager.default.removeItem(atPath: file) }
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.invalidOption("--out: cannot create \(path): \(error.localizedDescription)")
        }
    }
}
