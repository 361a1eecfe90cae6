import Foundation
@testable import OverlayClient
import OverlayCore
@testable import OverlayNode

/// The routing daemons' outputs: `hops-babel` (babeld's `dump` and `monitor` lines),
/// `hops-batman-adv` (batctl's JSON and text tables), `hops-bmx7` (bmx7's JSON originators).
/// Seeds: the committed captures and samples (`Fuzz/Seeds/hops-*`, copied by `ops/fuzz`) and
/// the lab's babeld fixtures.
enum HopTargets {
    static let all: [FuzzTarget] = [
        parser("hops-babel", "babeld dump/monitor text into BabelParser", BabelParser()),
        parser("hops-batman-adv", "batctl JSON and text tables into BatmanAdvParser", BatmanAdvParser()),
        parser("hops-bmx7", "bmx7 JSON originators into Bmx7Parser", Bmx7Parser()),
    ]

    private static func parser(_ name: String, _ summary: String, _ parser: some HopTableParser & Sendable) -> FuzzTarget {
        FuzzTarget(name: name, summary: summary, seeds: { [] }, run: { bytes in
            _ = try? parser.parse(String(decoding: bytes, as: UTF8.self))
        })
    }
}

/// `config`: TOML documents into ``ConfigFile/parse(text:source:)`` (syntax, shape, every key's
/// type and range). Seeds: the example and packaged configs (copied by `ops/fuzz`) and three
/// small documents here.
enum ConfigTarget {
    static let target = FuzzTarget(
        name: "config", summary: "TOML config documents into ConfigFile.parse",
        seeds: {
            [
                "[node]\nname = \"n1\"\n[network]\nbind = \"0.0.0.0:7946\"\nseeds = [\"10.0.0.1:7946\", \"[fd00::1]:7946\"]\n",
                "[gateways]\nstrategy = \"collaborative\"\n[[gateways.gateway]]\nproxy = \"10.0.1.1:3128\"\ncapacity = 40\nhops = 2\n",
                "[security]\nclock_skew_window_s = 600\nsender_rate_per_second = 200.5\n[log]\nlevel = \"debug\"\n",
            ].map { Data($0.utf8) }
        },
        run: { bytes in _ = try? ConfigFile.parse(text: String(decoding: bytes, as: UTF8.self), source: "fuzz.toml") })
}

/// `keyring`: keyring files into ``Keyring/parse(_:source:)``.
enum KeyringTarget {
    static let target = FuzzTarget(
        name: "keyring", summary: "keyring files into Keyring.parse",
        seeds: {
            let lines = (0..<4).map { "\(FuzzKeys.id($0).hex) node\($0)" }
            return [
                Data((lines.joined(separator: "\n") + "\n").utf8),
                Data("# the cloud's keys\n\(FuzzKeys.id(1).hex)   north-roof # on the water tower\r\n\(FuzzKeys.id(2).hex)\n".utf8),
            ]
        },
        run: { bytes in _ = try? Keyring.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz.keys") })
}

/// `api-request`: request lines (`METHOD target`) into ``APIRouter/resolve(method:uri:)``,
/// which checks the path, method, query parameters and their values before any handler runs.
/// The API takes no request bodies (every route is a GET or a bodiless POST; a body is
/// refused by the server's size limit); NIO's HTTP parser reads the bytes before this.
enum APIRequestTarget {
    static let target = FuzzTarget(
        name: "api-request", summary: "request lines into APIRouter.resolve (path, method, query)",
        seeds: {
            [
                "GET /v1/status", "GET /v1/peers?state=alive&state=suspect&name=north", "GET /v1/observations?gateway=10.0.1.1%3A3128&observer=0a1b",
                "POST /v1/reload", "POST /v1/selection/refresh", "GET /metrics", "GET /v1/events", "GET /v1/peers?bad=1",
                "DELETE /v1/status", "GET /v1/peers?name=%E2%82%AC&state=",
            ].map { Data($0.utf8) }
        },
        run: { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            _ = APIRouter.resolve(method: String(parts[0]), uri: parts.count > 1 ? String(parts[1]) : "")
        })
}

/// `api-response`: bytes read from the daemon's socket into `overlayctl`'s HTTP response
/// parser (``HTTPResponseParser``: status line, headers, `Content-Length` and chunked bodies),
/// as a whole and at every split of the first 64 bytes (a response arriving in two reads).
enum APIResponseTarget {
    static let target = FuzzTarget(
        name: "api-response", summary: "HTTP responses into overlayctl's HTTPResponseParser",
        seeds: {
            [
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.0 500 Internal Server Error\r\n\r\nboom",
            ].map { Data($0.utf8) }
        },
        run: { data in
            let bytes = [UInt8](data)
            _ = try? HTTPResponseParser.parse(bytes, atEOF: true)
            for split in 0..<min(bytes.count, 64) {
                _ = try? HTTPResponseParser.parse(Array(bytes[..<split]), atEOF: false)
            }
        })
}
