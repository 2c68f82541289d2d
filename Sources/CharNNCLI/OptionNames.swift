import CharNN

/// The command-line flag for each library field an error can name. The library's errors name
/// fields by their Swift property names (`sequenceLength`); the CLI shows the flag a user types
/// (`--seq`). One table, so every subcommand words the same error the same way.
enum OptionNames {
    static let flags: [String: String] = [
        // TrainingOptions
        "cell": "--cell", "layers": "--layers", "hiddenSize": "--hidden", "embeddingSize": "--embedding", "dropout": "--dropout",
        "batch": "--batch", "sequenceLength": "--seq", "learningRate": "--lr", "schedule": "--lr-schedule",
        "warmupSteps": "--warmup-steps", "clip": "--clip", "averageDecay": "--average-decay", "weightDrop": "--weight-drop", "lockedDropout": "--locked-dropout", "epochs": "--epochs",
        "maxSteps": "--steps", "timeBudgetSeconds": "--time", "validationFraction": "--val-frac",
        "validationSymbols": "--val-symbols", "evalEvery": "--eval-every", "saveEvery": "--save-every", "seed": "--seed", "threads": "--threads",
        // The run directory and how it is opened
        "directory": "--out", "resume": "--resume", "force": "--force",
        // Starting from a trained model
        "initFrom": "--init-from", "extendVocabulary": "--extend-vocab",
        // SamplingOptions and the sampler
        "temperature": "--temperature", "topK": "--top-k", "topP": "--top-p", "streams": "--count",
        "skipUnknown": "--skip-unknown",
    ]

    /// The flag for `field`, or the field's own name when no flag sets it.
    static func flag(_ field: String) -> String { flags[field] ?? field }
}
