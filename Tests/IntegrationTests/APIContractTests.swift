import Foundation
import OverlayNode
import Testing

/// The OpenAPI document (`Docs/openapi.yaml`) against the route table and a running daemon:
/// `ops/api-contract.py` validates the document and checks the live answer of every route.
@Suite(.serialized) struct APIContractTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func openAPIDocumentValidatesAndMatchesEveryLiveRoute() throws {
        let check = try runProgram(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import openapi_spec_validator, yaml"])
        guard check.status == 0 else {
            print("SKIPPED: openapi-spec-validator is not installed (pip install openapi-spec-validator); the API contract was not checked")
            return
        }
        let cloud = try LocalCloud(count: 2, basePort: 17860)
        defer { cloud.shutdown() }
        // A declared gateway that does not answer: observations, estimates and a selection exist.
        let config = try String(contentsOfFile: cloud.nodes[0].config, encoding: .utf8)
            + "\n[gateways]\npreset = \"fast\"\n\n[[gateways.gateway]]\nid = \"gw-contract\"\nproxy = \"127.0.0.1:17879\"\nhops = 2\n"
        try config.write(toFile: cloud.nodes[0].config, atomically: true, encoding: .utf8)
        try cloud.startAll()
        let ready = cloud.waitUntil(timeout: .seconds(20)) {
            (0..<2).allSatisfy { cloud.peers($0)?.filter { $0.state == "alive" }.count == 2 }
                && (try? runProgram(cloud.binaries.appendingPathComponent("overlayctl"),
                                    ["observations", "--json", "--socket", cloud.nodes[0].socket]).stdout.contains("gw-contract")) == true
        }
        try #require(ready != nil, "the cloud did not converge or measure:\n\(cloud.logs())")

        let routes = APIRouter.routes.map { "\($0.method) \($0.path)" }.joined(separator: ",")
        let result = try runProgram(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", Self.root.appendingPathComponent("ops/api-contract.py").path,
             "--spec", Self.root.appendingPathComponent("Docs/openapi.yaml").path,
             "--socket", cloud.nodes[0].socket, "--routes", routes])
        print(result.stdout)
        #expect(result.status == 0, "the API does not match Docs/openapi.yaml:\n\(result.stderr)")
        #expect(result.stdout.contains("\(APIRouter.routes.count) routes and the 404 error checked"))
    }
}
