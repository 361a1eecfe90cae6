import Foundation
import OverlayCore

/// A generated community mesh: nodes on a plane, radio links between nodes within range, and
/// hop counts along shortest paths.
///
/// A random geometric graph (nodes uniform in a square, a link between every two nodes closer
/// than the radio range) is the usual model of a rooftop mesh like guifi.net's or a LibreMesh
/// neighbourhood. The density is one node per unit of area and the range gives
/// ``averageDegree`` neighbours on average; components left isolated are joined to the main one
/// by their shortest possible link (as communities add a long point-to-point link to reach a
/// stranded block). Hop counts are computed lazily, one breadth-first search per source, and
/// cached as bytes, so a 10,000-node mesh costs at most 100 MB and only for sources in use.
public final class MeshTopology {
    /// The positions, in units where the density is one node per unit².
    public let positions: [(x: Double, y: Double)]
    /// The side of the square.
    public let side: Double
    /// The radio range.
    public let range: Double
    /// The neighbours of each node, sorted.
    public let neighbours: [[Int32]]
    private var rows: [[UInt8]?]

    /// The number of nodes.
    public var count: Int { positions.count }

    /// The mean number of radio neighbours.
    public var averageDegree: Double {
        Double(neighbours.reduce(0) { $0 + $1.count }) / Double(max(1, count))
    }

    /// Generates a mesh of `count` nodes whose range gives about `degree` neighbours each.
    ///
    /// - Parameters:
    ///   - count: the number of nodes (at least 1).
    ///   - degree: the mean number of neighbours wanted. Default 8: a rooftop node usually sees
    ///     a handful to a dozen others, and below about 6 a random geometric graph breaks up.
    ///   - seed: the seed; the same seed gives the same mesh.
    public init(count: Int, degree: Double = 8, seed: UInt64) {
        precondition(count >= 1)
        var rng = DeterministicRandom.stream(seed, 0x70F0)
        let side = Double(count).squareRoot()
        let range = min(side * 1.5, (degree / Double.pi).squareRoot())
        var positions: [(x: Double, y: Double)] = []
        positions.reserveCapacity(count)
        for _ in 0..<count { positions.append((rng.uniform(0, side), rng.uniform(0, side))) }

        // Grid buckets of the range's size: each node only compares with the 9 cells around it.
        let cells = max(1, Int(side / range))
        let cellSize = side / Double(cells)
        var buckets = [[Int32]](repeating: [], count: cells * cells)
        func cell(_ p: (x: Double, y: Double)) -> (Int, Int) {
            (min(cells - 1, Int(p.x / cellSize)), min(cells - 1, Int(p.y / cellSize)))
        }
        for (index, p) in positions.enumerated() {
            let (cx, cy) = cell(p)
            buckets[cy * cells + cx].append(Int32(index))
        }
        var adjacency = [[Int32]](repeating: [], count: count)
        let range2 = range * range
        for (index, p) in positions.enumerated() {
            let (cx, cy) = cell(p)
            for dy in -1...1 {
                for dx in -1...1 {
                    let x = cx + dx, y = cy + dy
                    guard x >= 0, y >= 0, x < cells, y < cells else { continue }
                    for other in buckets[y * cells + x] where Int(other) > index {
                        let q = positions[Int(other)]
                        let d2 = (p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)
                        if d2 <= range2 {
                            adjacency[index].append(other)
                            adjacency[Int(other)].append(Int32(index))
                        }
                    }
                }
            }
        }
        // Join every component to the one holding node 0 by its shortest link.
        while true {
            var component = [Int32](repeating: -1, count: count)
            var label: Int32 = 0
            var sizes: [Int] = []
            for start in 0..<count where component[start] < 0 {
                var queue = [start]
                component[start] = label
                var head = 0
                while head < queue.count {
                    let node = queue[head]
                    head += 1
                    for next in adjacency[node] where component[Int(next)] < 0 {
                        component[Int(next)] = label
                        queue.append(Int(next))
                    }
                }
                sizes.append(queue.count)
                label += 1
            }
            guard label > 1 else { break }
            // The second component (in index order) gets its shortest link to any other.
            let stranded = Int32(1)
            var best: (Int, Int, Double)?
            for a in 0..<count where component[a] == stranded {
                for b in 0..<count where component[b] != stranded {
                    let d2 = (positions[a].x - positions[b].x) * (positions[a].x - positions[b].x)
                        + (positions[a].y - positions[b].y) * (positions[a].y - positions[b].y)
                    if best == nil || d2 < best!.2 { best = (a, b, d2) }
                }
            }
            let (a, b, _) = best!
            adjacency[a].append(Int32(b))
            adjacency[b].append(Int32(a))
        }
        self.positions = positions
        self.side = side
        self.range = range
        self.neighbours = adjacency.map { $0.sorted() }
        self.rows = [[UInt8]?](repeating: nil, count: count)
    }

    /// The number of radio hops on a shortest path from `source` to `target` (0 for itself).
    public func hops(from source: Int, to target: Int) -> Int {
        if let row = rows[source] { return Int(row[target]) }
        if let row = rows[target] { return Int(row[source]) }
        let row = breadthFirst(from: source)
        rows[source] = row
        return Int(row[target])
    }

    /// Drops the cached hop rows (to bound memory between phases of a long run).
    public func forgetHopRows() { rows = [[UInt8]?](repeating: nil, count: count) }

    private func breadthFirst(from source: Int) -> [UInt8] {
        var row = [UInt8](repeating: 255, count: count)
        row[source] = 0
        var queue = [Int32](repeating: 0, count: count)
        queue[0] = Int32(source)
        var head = 0, tail = 1
        while head < tail {
            let node = Int(queue[head])
            head += 1
            let next = row[node] == 254 ? 254 : row[node] + 1
            for neighbour in neighbours[node] where row[Int(neighbour)] == 255 {
                row[Int(neighbour)] = next
                queue[tail] = neighbour
                tail += 1
            }
        }
        return row
    }

    /// `count` nodes at the edge of the mesh, spread around it: the plane is cut into `count`
    /// equal angular sectors around the centre and each sector gives its node farthest from
    /// the centre (community gateways are often at the edge: a member with a fibre line on the
    /// outskirts, a neighbouring network's border router).
    ///
    /// - Returns: distinct node indices, sorted.
    public func edgeNodes(_ count: Int) -> [Int] {
        let centre = side / 2
        var chosen = Set<Int>()
        for sector in 0..<count {
            let low = Double(sector) / Double(count) * 2 * Double.pi - Double.pi
            let high = Double(sector + 1) / Double(count) * 2 * Double.pi - Double.pi
            var best: (Int, Double)?
            for (index, p) in positions.enumerated() where !chosen.contains(index) {
                let angle = atan2(p.y - centre, p.x - centre)
                guard angle >= low, angle < high else { continue }
                let distance = (p.x - centre) * (p.x - centre) + (p.y - centre) * (p.y - centre)
                if best == nil || distance > best!.1 { best = (index, distance) }
            }
            if let best { chosen.insert(best.0) }
        }
        // A sector without nodes (tiny meshes): take the farthest nodes not chosen yet.
        if chosen.count < count {
            let rest = positions.indices.filter { !chosen.contains($0) }.sorted { lhs, rhs in
                let dl = pow(positions[lhs].x - centre, 2) + pow(positions[lhs].y - centre, 2)
                let dr = pow(positions[rhs].x - centre, 2) + pow(positions[rhs].y - centre, 2)
                return dl != dr ? dl > dr : lhs < rhs
            }
            for index in rest.prefix(count - chosen.count) { chosen.insert(index) }
        }
        return chosen.sorted()
    }
}
