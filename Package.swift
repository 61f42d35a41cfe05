// swift-tools-version:6.0
// forkpool: an HTTP job service that runs tasks in forked worker processes.
// Modules depend one way: CForkPoolShims -> SystemV -> ProcessPool -> (service layers).
import PackageDescription

// Every symbol bound at start-up (`-z now`), not at its first call: otherwise each forked
// worker resolves the functions only workers call (signal, prctl...) itself, faulting in
// the dynamic linker's pages: 13 of a worker's 44 page faults, a fork per task 15% slower.
let bindAtStart: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"])]

let package = Package(
    name: "forkpool",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SystemV", targets: ["SystemV"]),
        .library(name: "ProcessPool", targets: ["ProcessPool"]),
        // Embed forkpool: register tasks of your own, then `ForkPool.main(tasks:)`.
        .library(name: "ForkPool", targets: ["ForkPoolServer", "Tasks", "JSON", "ProcessPool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CForkPoolShims"),
        .target(name: "SystemV", dependencies: ["CForkPoolShims"]),
        .target(name: "ProcessPool", dependencies: ["SystemV", "CForkPoolShims"]),
        // The header only: the front-ends dlopen libmicrohttpd (see CMicroHTTPDShims/library.c).
        .systemLibrary(name: "CMicroHTTPD", providers: [.apt(["libmicrohttpd-dev"])]),
        .target(name: "CMicroHTTPDShims", dependencies: ["CMicroHTTPD"]),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "CMicroHTTPDShims", "ProcessPool", "SystemV"]),
        .target(name: "JobStore", dependencies: ["SystemV", "CForkPoolShims"]),
        .target(name: "Tasks", dependencies: ["JSON", "ProcessPool", "SystemV", "CForkPoolShims", "Yams"]),
        .target(name: "JobService", dependencies: [
            "HTTPServer", "JobStore", "JSON", "ProcessPool", "SystemV", "Tasks", "CForkPoolShims",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "JSON"),
        .target(name: "ForkPoolServer", dependencies: [
            "JobService", "JobStore", "HTTPServer", "JSON", "ProcessPool", "SystemV", "Tasks", "CForkPoolShims",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "forkpool", dependencies: ["ForkPoolServer"], linkerSettings: bindAtStart),
        // An embedding program with a task of its own (README, "Tasks in Swift").
        .executableTarget(
            name: "forkpool-example",
            dependencies: ["ForkPoolServer", "Tasks", "JSON", "ProcessPool"],
            path: "Examples/CustomTask",
            linkerSettings: bindAtStart
        ),
        // Drives forks and System V objects on behalf of the tests, which must never
        // fork the (multi-threaded) test runner itself.
        .executableTarget(name: "forkpool-harness", dependencies: ["SystemV", "ProcessPool", "JobStore"],
                          linkerSettings: bindAtStart),
        .executableTarget(
            name: "forkpool-bench",
            dependencies: ["SystemV", "ProcessPool"],
            path: "bench/ForkPoolBench",
            linkerSettings: bindAtStart
        ),
        // Starts the harness and inspects /proc and System V objects for the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SystemVTests", dependencies: ["SystemV", "TestSupport"]),
        .testTarget(name: "JobStoreTests", dependencies: ["JobStore", "SystemV", "TestSupport"]),
        .testTarget(name: "JobServiceTests", dependencies: ["JobService", "JobStore", "HTTPServer", "JSON", "SystemV", "Tasks", "TestSupport"]),
        .testTarget(name: "ProcessPoolTests", dependencies: ["ProcessPool", "SystemV", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "ProcessPool"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "JSON", "ProcessPool"]),
    ],
    swiftLanguageModes: [.v6]
)
