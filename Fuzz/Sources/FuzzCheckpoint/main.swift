import CharNN
import FuzzSupport

/// libFuzzer entry point: any bytes, read as a checkpoint file.
///
/// A crash, a sanitizer report or a timeout is a finding. Beyond "no crash", a file that loads
/// must survive a round trip: charnn's writer and reader agree on every byte they accept.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let container = try? SafeTensorsFile(bytes: bytes) {
        // The container alone: what it parsed, it writes and reads back the same.
        let again = try? SafeTensorsFile(bytes: container.serialized())
        precondition(again?.metadata == container.metadata, "safetensors metadata changed in a round trip")
        precondition(again?.tensors.map(\.tensor) == container.tensors.map(\.tensor), "safetensors tensors changed in a round trip")
    }
    guard let checkpoint = try? Checkpoint(bytes: bytes, path: "fuzz") else { return 0 }
    let reloaded: Checkpoint
    do { reloaded = try Checkpoint(bytes: checkpoint.serialized(), path: "fuzz") } catch {
        preconditionFailure("a checkpoint that loaded does not load once rewritten: \(error)")
    }
    precondition(reloaded.model == checkpoint.model && reloaded.tokenizer == checkpoint.tokenizer
        && reloaded.optimizer == checkpoint.optimizer && reloaded.training == checkpoint.training
        && reloaded.carriedState == checkpoint.carriedState, "a checkpoint changed in a round trip")
    return 0
}

/// The process entry point (see ``runFuzzer(argc:argv:_:)`` for why it is not libFuzzer's `main`).
@_cdecl("FuzzCheckpoint_main")
public func main(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzCheckpoint)
}
