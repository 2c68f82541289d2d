import CharNN
import CharNNServer
import Foundation
import Testing

/// Whether headless Chromium and its WebDriver are installed (`.ci/run` installs both).
private let browserInstalled = ["/usr/bin/chromium", "/usr/bin/chromedriver"].allSatisfy(FileManager.default.isExecutableFile)
/// CI sets this, so that a missing browser fails there instead of skipping.
private let browserRequired = ProcessInfo.processInfo.environment["CHARNN_REQUIRE_BROWSER"] == "1"

@Suite("serve: the page in a real browser", .timeLimit(.minutes(3)))
struct PageBrowserTests {
    @Test("headless Chromium loads the page, sees generated text arrive in steps, stops it, and shows no error",
          .enabled(if: browserInstalled || browserRequired,
                   "needs chromium and chromium-driver (apt-get install chromium chromium-driver); CI installs them and sets CHARNN_REQUIRE_BROWSER=1"))
    func pageInChromium() async throws {
        try await withServer(configuration: ServerConfiguration(port: 0, maxLength: 100_000)) { port, model, log in
            let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("charnn-page-\(getpid()).png").path
            defer { try? FileManager.default.removeItem(atPath: screenshot) }
            let (status, output) = try await offPool {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", repositoryRoot.appendingPathComponent("Tests/Browser/page_test.py").path,
                                     "--url", "http://127.0.0.1:\(port)/", "--screenshot", screenshot]
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, text)
            }
            #expect(status == 0, "\(output)")
            #expect(output.contains("page test: ok"), "\(output)")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
            // Stop cancelled the generation on the server as well.
            #expect(await eventually(within: 10) { model.activeGenerations == 0 })
            #expect(log.all.contains { $0.hasPrefix("GET / 200") } && log.all.contains { $0.hasPrefix("POST /v1/generate 200") }, "\(log.all)")
        }
    }
}
