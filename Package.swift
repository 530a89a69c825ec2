// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Residency",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "residency", targets: ["residency"])
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .systemLibrary(
            name: "CSSL",
            pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        // PostgreSQL's client library: the store for several controllers on one database (issue 22).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        // epoll, eventfd and atomics on shared memory, which the Glibc module lacks (headers only; nothing to link).
        .systemLibrary(name: "CLinux"),
        // A SQLite VFS over the default one that writes each commit's WAL frames in one system call (see
        // BatchedWAL.c); C, as SQLite's interfaces are.
        .target(name: "CSQLiteVFS", dependencies: ["CSQLite"]),
        .target(name: "ResidencyCore", dependencies: ["CCrypto"]),
        // TLS 1.3 over OpenSSL's libssl: the API's HTTPS and, between the controller and the regional services,
        // mutual TLS with pinned keys.
        .target(name: "ResidencyTLS", dependencies: ["CSSL", "CCrypto"]),
        .target(name: "ResidencyStore", dependencies: ["ResidencyCore", "CSQLite", "CSQLiteVFS", "CLinux", "CLibPQ"]),
        .target(name: "ResidencyController", dependencies: ["ResidencyCore", "ResidencyStore", "ResidencyTLS"]),
        .target(
            name: "ResidencyServer",
            dependencies: ["ResidencyCore", "ResidencyController", "CLinux", "ResidencyTLS"],
            resources: [.copy("openapi.json")]
        ),
        .target(
            name: "ResidencyCLI",
            dependencies: ["ResidencyCore", "ResidencyController", "ResidencyServer", "ResidencyTLS"]
        ),
        .executableTarget(name: "residency", dependencies: ["ResidencyCLI"]),
        .executableTarget(
            name: "residency-bench",
            dependencies: ["ResidencyCore", "ResidencyStore", "ResidencyController", "ResidencyTLS", "ResidencyServer"],
            path: "Benchmarks/residency-bench"
        ),
        .testTarget(name: "ResidencyCoreTests", dependencies: ["ResidencyCore"]),
        // Tests and the benchmark declare every module they import; their fixtures may set up store rows directly,
        // which the CLI (above the controller) no longer may.
        .testTarget(name: "ResidencyStoreTests", dependencies: ["ResidencyCore", "ResidencyStore", "CSQLite", "CSQLiteVFS"]),
        .testTarget(
            name: "ResidencyControllerTests",
            dependencies: ["ResidencyCore", "ResidencyStore", "ResidencyController", "ResidencyTLS"]),
        .testTarget(
            name: "ResidencyServerTests",
            dependencies: ["ResidencyCore", "ResidencyStore", "ResidencyController", "ResidencyServer", "ResidencyTLS"]),
        .testTarget(name: "ResidencyTLSTests", dependencies: ["ResidencyTLS"]),
        .testTarget(
            name: "ResidencyCLITests",
            dependencies: ["ResidencyCore", "ResidencyStore", "ResidencyController", "ResidencyCLI"]),
    ],
    swiftLanguageModes: [.v6]
)
