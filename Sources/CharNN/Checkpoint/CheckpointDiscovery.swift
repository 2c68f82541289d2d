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

    /// The pretrained model shipped with charnn (`shakespeare.safetensors`): looked for in
    /// `$CHARNN_DATA_DIR`, as `checkpoints/shakespeare.safetensors` under the current directory,
    /// in the data directory of an installed prefix (`PREFIX/share/charnn/` beside the
    /// executable's `PREFIX/bin/`, where `scripts/install` puts it), then as
    /// `checkpoints/shakespeare.safetensors` beside the executable and up to five folders above
    /// it (a `.build/<triple>/release/charnn` binary finds the one in its clone).
    package static func pretrained(executable: String = "/proc/self/exe",
                                  environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let name = "shakespeare.safetensors"
        if let data = environment["CHARNN_DATA_DIR"], !data.isEmpty {
            let candidate = URL(fileURLWithPath: data).appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        let relative = "checkpoints/" + name
        if FileManager.default.fileExists(atPath: relative) { return relative }
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        let installed = directory.deletingLastPathComponent().appendingPathComponent("share/charnn/" + name).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: installed) { return installed }
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
