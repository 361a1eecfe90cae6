import Foundation
import OverlayCore

extension DeterministicRandom {
    /// A uniform double in `[0, 1)`, from the top 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// `true` with probability `p`.
    mutating func chance(_ p: Double) -> Bool { p > 0 && unit() < p }

    /// A uniform integer in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A uniform double in `[low, high)`.
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// A standard normal draw (Box-Muller; uses two uniforms).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// An exponential draw with the given mean.
    mutating func exponential(mean: Double) -> Double { -mean * log(max(1 - unit(), 1e-300)) }

    /// A derived generator for one named purpose, so that adding draws to one purpose never
    /// shifts another's stream.
    static func stream(_ seed: UInt64, _ purpose: UInt64) -> DeterministicRandom {
        DeterministicRandom(seed: KeyedTag.mix(seed ^ KeyedTag.mix(purpose &+ 0x5EED)))
    }
}
