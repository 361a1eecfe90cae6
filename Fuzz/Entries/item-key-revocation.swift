// libFuzzer entry of the `item-key-revocation` fuzz target (Fuzz/Harness; built and run by ops/fuzz).
import FuzzHarness

private let target = FuzzTargets.named("item-key-revocation")

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    FuzzTargets.prepare("item-key-revocation")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTargets.run(target, bytes, count)
    return 0
}
