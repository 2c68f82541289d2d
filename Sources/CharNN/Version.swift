/// The charnn release this library belongs to; `charnn --version` prints it.
public let charnnVersion = "0.1.0"
