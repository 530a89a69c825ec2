/// A decoded value of the MaxMind DB data section, one case per type of the format (pointers are followed).
package indirect enum MaxMindValue: Sendable, Equatable {
    case string(String)
    case double(Double)
    case bytes([UInt8])
    case uint16(UInt16)
    case uint32(UInt32)
    case map([String: MaxMindValue])
    case int32(Int32)
    case uint64(UInt64)
    case uint128(high: UInt64, low: UInt64)
    case array([MaxMindValue])
    case bool(Bool)
    case float(Float)

    package subscript(key: String) -> MaxMindValue? {
        if case .map(let members) = self { return members[key] }
        return nil
    }

    /// Any unsigned or signed integer type, widened; nil for other types or a uint128 over 64 bits.
    package var integerValue: UInt64? {
        switch self {
        case .uint16(let v): return UInt64(v)
        case .uint32(let v): return UInt64(v)
        case .uint64(let v): return v
        case .int32(let v): return v >= 0 ? UInt64(v) : nil
        case .uint128(let high, let low): return high == 0 ? low : nil
        default: return nil
        }
    }
}
