import ArgumentParser
import CharNN

struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Print the vocabulary of a text file with counts, most frequent first."
    )

    @Argument(help: "A UTF-8 text file.")
    var file: String

    func run() throws {
        print(file)
    }
}
