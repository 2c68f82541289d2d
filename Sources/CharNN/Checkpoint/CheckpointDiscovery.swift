import Foundation

/// Finds the checkpoint to use when the user names none.
package enum CheckpointDiscovery {
    /// The most recently modified `best.safetensors` in `directory` or its subdirectories (at
    /// most three levels down, as `checkpoints/<run>/best.safetensors`), or nil.
    package static func mostRecentBest(under directory: String = "checkpoints") -> String? {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.contentModificationDateKey, .isRegularFileKey],
            options: [.skipsHiddenFiles])
        else { return nil }
        var best: (path: String, date: Date)?
        for case let url as URL in walker {
            if walker.level > 3 { walker.skipDescendants() }
            guard url.lastPathComponent == "best.safetensors",
                  let values = try? url.resourceValues(forKeys: [.contentModificationDateKey, .isRegularFileKey]),
                  values.isRegularFile == true, let date = values.contentModificationDate else { continue }
            if best == nil || date > best!.date { best = (url.path, date) }
        }
        return best.map { relative($0.path) }
    }

    /// The pretrained model shipped with charnn (`checkpoints/shakespeare.safetensors`): looked
    /// for under the current directory, then beside the executable and up to five folders above
    /// it (a `.build/<triple>/release/charnn` binary finds the one in its clone).
    package static func pretrained(executable: String = "/proc/self/exe") -> String? {
        let relative = "checkpoints/shakespeare.safetensors"
        if FileManager.default.fileExists(atPath: relative) { return relative }
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = directory.appendingPathComponent(relative).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    /// `path` relative to the current directory when it lies below it, for friendlier messages.
    static func relative(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}
