/// The charnn release this library belongs to; `charnn --version` prints it and every checkpoint
/// records it as `charnn_version`. Bump it (and add a CHANGELOG.md section, which a test holds
/// equal to it) whenever behaviour or the checkpoint format changes.
public let charnnVersion = "0.2.0"
