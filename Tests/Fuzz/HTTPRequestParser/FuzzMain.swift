/// libFuzzer entry point for the HTTP/1.1 request parser: the input is split in two at a point chosen by its
/// first byte (so split reads are exercised), fed in, and every request taken out. Errors are expected;
/// crashes, hangs and sanitizer reports are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = Int(bytes[0]) % bytes.count
    var limits = HTTPLimits()
    limits.bodyBytes = 4096
    limits.headBytes = 2048
    var parser = HTTPRequestParser(limits: limits)
    for part in [bytes[1..<max(1, split)], bytes[max(1, split)...]] {
        parser.append(part)
        while true {
            guard case .request(let request) = try? parser.next() else { break }
            _ = request.keepsAlive
            _ = request.path
            _ = request.header("content-type")
        }
    }
    return 0
}
