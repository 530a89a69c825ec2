/// Reads the MaxMind DB data format (specification 2.0, "Data Section") from a byte range.
///
/// Every read is bounds-checked against the section; pointer targets are checked; a pointer may not point
/// to a pointer (the specification forbids it, and it is how cycles are built); maps and arrays may nest
/// `maximumDepth` deep at most. So hostile input yields `MaxMindError.invalidData`, never a crash or hang.
struct MaxMindDecoder {
    let base: UnsafeRawPointer
    let count: Int

    static let maximumDepth = 64

    enum Kind: UInt8 {
        case pointer = 1, string, double, bytes, uint16, uint32, map, int32, uint64, uint128, array, container,
            endMarker, boolean, float
    }

    /// A control byte decoded: the type, the size (or a pointer's target), and where the payload starts.
    struct Control {
        var kind: Kind
        var size: Int
        var payload: Int
    }

    @inline(__always)
    func byte(_ offset: Int) throws(MaxMindError) -> UInt8 {
        guard offset >= 0, offset < count else {
            throw MaxMindError.invalidData(offset: offset, reason: "read past the end of the section")
        }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func bigEndian(_ offset: Int, _ length: Int) throws(MaxMindError) -> UInt64 {
        guard offset >= 0, length >= 0, offset <= count - length else {
            throw MaxMindError.invalidData(
                offset: offset, reason: "a \(length)-byte value runs past the end of the section")
        }
        var value: UInt64 = 0
        for index in 0..<length {
            value = value << 8 | UInt64(base.load(fromByteOffset: offset + index, as: UInt8.self))
        }
        return value
    }

    func control(at offset: Int) throws(MaxMindError) -> Control {
        let first = try byte(offset)
        var raw = first >> 5
        var next = offset + 1
        if raw == 0 {
            let extended = try byte(next)
            next += 1
            guard extended >= 1, extended <= 8 else {
                throw MaxMindError.invalidData(offset: offset, reason: "unknown extended type \(Int(extended) + 7)")
            }
            raw = 7 + extended
        }
        guard let kind = Kind(rawValue: raw) else {
            throw MaxMindError.invalidData(offset: offset, reason: "unknown type \(raw)")
        }
        if kind == .pointer {
            let sizeBits = Int(first >> 3 & 0x3)
            let high = UInt64(first & 0x7)
            let target: UInt64
            switch sizeBits {
            case 0: target = high << 8 | (try bigEndian(next, 1))
            case 1: target = (high << 16 | (try bigEndian(next, 2))) + 2048
            case 2: target = (high << 24 | (try bigEndian(next, 3))) + 526_336
            default: target = try bigEndian(next, 4)
            }
            guard target < UInt64(count) else {
                throw MaxMindError.invalidData(
                    offset: offset, reason: "pointer to \(target) is outside the data section (\(count) bytes)")
            }
            return Control(kind: .pointer, size: Int(target), payload: next + sizeBits + 1)
        }
        var size = Int(first & 0x1F)
        switch size {
        case 29:
            size = 29 + Int(try byte(next))
            next += 1
        case 30:
            size = 285 + Int(try bigEndian(next, 2))
            next += 2
        case 31:
            size = 65_821 + Int(try bigEndian(next, 3))
            next += 3
        default: break
        }
        return Control(kind: kind, size: size, payload: next)
    }

    /// The control at `offset` with a pointer followed once; `next` is where the item after the one at
    /// `offset` begins (after the pointer itself, when it was one).
    @inline(__always)
    func resolved(at offset: Int) throws(MaxMindError) -> (control: Control, next: Int?) {
        let control = try control(at: offset)
        guard control.kind == .pointer else { return (control, nil) }
        let target = try self.control(at: control.size)
        if target.kind == .pointer {
            throw MaxMindError.invalidData(offset: control.size, reason: "pointer to a pointer")
        }
        return (target, control.payload)
    }

    /// Checks that a scalar's payload is in bounds and of a legal size; answers the offset after it.
    func endOfScalar(_ control: Control, at offset: Int) throws(MaxMindError) -> Int {
        let limit: Int?
        switch control.kind {
        case .uint16: limit = 2
        case .uint32, .int32: limit = 4
        case .uint64: limit = 8
        case .uint128: limit = 16
        case .boolean:
            guard control.size <= 1 else {
                throw MaxMindError.invalidData(offset: offset, reason: "boolean of size \(control.size)")
            }
            return control.payload
        case .double:
            guard control.size == 8 else {
                throw MaxMindError.invalidData(offset: offset, reason: "double of size \(control.size), expected 8")
            }
            limit = nil
        case .float:
            guard control.size == 4 else {
                throw MaxMindError.invalidData(offset: offset, reason: "float of size \(control.size), expected 4")
            }
            limit = nil
        case .string, .bytes: limit = nil
        case .container, .endMarker:
            throw MaxMindError.invalidData(
                offset: offset, reason: "type \(control.kind.rawValue) may not appear in data")
        case .map, .array, .pointer:
            preconditionFailure("not a scalar")
        }
        if let limit, control.size > limit {
            throw MaxMindError.invalidData(
                offset: offset, reason: "\(control.kind) of size \(control.size), at most \(limit)")
        }
        guard control.payload <= count - control.size else {
            throw MaxMindError.invalidData(
                offset: offset, reason: "\(control.kind) of \(control.size) bytes runs past the end of the section")
        }
        return control.payload + control.size
    }

    /// The offset just after the item at `offset`, checking everything inside it.
    func skip(at offset: Int, depth: Int = 0) throws(MaxMindError) -> Int {
        let control = try control(at: offset)
        switch control.kind {
        case .pointer: return control.payload
        case .map, .array:
            guard depth < Self.maximumDepth else {
                throw MaxMindError.invalidData(
                    offset: offset, reason: "maps and arrays nested deeper than \(Self.maximumDepth)")
            }
            var next = control.payload
            let items = control.kind == .map ? 2 : 1
            for _ in 0..<control.size {
                for _ in 0..<items { next = try skip(at: next, depth: depth + 1) }
            }
            return next
        default:
            return try endOfScalar(control, at: offset)
        }
    }

    /// The bytes of the map key at `offset` (a string, possibly through a pointer), and the offset after it.
    @inline(__always)
    func key(at offset: Int) throws(MaxMindError) -> (start: Int, count: Int, next: Int) {
        let (control, afterPointer) = try resolved(at: offset)
        guard control.kind == .string else {
            throw MaxMindError.invalidData(offset: offset, reason: "map key is a \(control.kind), not a string")
        }
        guard control.payload <= count - control.size else {
            throw MaxMindError.invalidData(offset: offset, reason: "map key runs past the end of the section")
        }
        return (control.payload, control.size, afterPointer ?? control.payload + control.size)
    }

    /// In the map at `offset` (pointers followed), the offset of the value whose key equals `name`.
    /// Values of other keys are skipped, not decoded.
    func member(_ name: [UInt8], inMapAt offset: Int) throws(MaxMindError) -> Int? {
        let (control, _) = try resolved(at: offset)
        guard control.kind == .map else { return nil }
        var next = control.payload
        for _ in 0..<control.size {
            let key = try key(at: next)
            if key.count == name.count,
                name.withUnsafeBytes({ memcmp(base + key.start, $0.baseAddress!, key.count) == 0 })
            {
                return key.next
            }
            next = try skip(at: key.next, depth: 1)
        }
        return nil
    }

    /// The string at `offset` (pointers followed) as raw bytes.
    func stringBytes(at offset: Int) throws(MaxMindError) -> UnsafeRawBufferPointer? {
        let (control, _) = try resolved(at: offset)
        guard control.kind == .string else { return nil }
        _ = try endOfScalar(control, at: offset)
        return UnsafeRawBufferPointer(start: base + control.payload, count: control.size)
    }

    /// The number at `offset` (double, float or integer) as a Double.
    func number(at offset: Int) throws(MaxMindError) -> Double? {
        let (control, _) = try resolved(at: offset)
        switch control.kind {
        case .double:
            _ = try endOfScalar(control, at: offset)
            return Double(bitPattern: try bigEndian(control.payload, 8))
        case .float:
            _ = try endOfScalar(control, at: offset)
            return Double(Float(bitPattern: UInt32(try bigEndian(control.payload, 4))))
        default:
            return nil
        }
    }

    /// Decodes the whole item at `offset`.
    func decode(at offset: Int, depth: Int = 0) throws(MaxMindError) -> (value: MaxMindValue, next: Int) {
        let (control, afterPointer) = try resolved(at: offset)
        let value: MaxMindValue
        var next: Int
        switch control.kind {
        case .map, .array:
            guard depth < Self.maximumDepth else {
                throw MaxMindError.invalidData(
                    offset: offset, reason: "maps and arrays nested deeper than \(Self.maximumDepth)")
            }
            next = control.payload
            if control.kind == .map {
                var members: [String: MaxMindValue] = [:]
                for _ in 0..<control.size {
                    let key = try key(at: next)
                    guard
                        let name = String(
                            validating: UnsafeRawBufferPointer(start: base + key.start, count: key.count), as: UTF8.self
                        )
                    else {
                        throw MaxMindError.invalidData(offset: next, reason: "map key is not valid UTF-8")
                    }
                    let member = try decode(at: key.next, depth: depth + 1)
                    members[name] = member.value
                    next = member.next
                }
                value = .map(members)
            } else {
                var elements: [MaxMindValue] = []
                for _ in 0..<control.size {
                    let element = try decode(at: next, depth: depth + 1)
                    elements.append(element.value)
                    next = element.next
                }
                value = .array(elements)
            }
        case .pointer:
            preconditionFailure("resolved(at:) follows pointers")
        default:
            next = try endOfScalar(control, at: offset)
            let payload = control.payload
            let size = control.size
            switch control.kind {
            case .string:
                guard
                    let string = String(
                        validating: UnsafeRawBufferPointer(start: base + payload, count: size), as: UTF8.self)
                else {
                    throw MaxMindError.invalidData(offset: offset, reason: "string is not valid UTF-8")
                }
                value = .string(string)
            case .bytes: value = .bytes(Array(UnsafeRawBufferPointer(start: base + payload, count: size)))
            case .double: value = .double(Double(bitPattern: try bigEndian(payload, 8)))
            case .float: value = .float(Float(bitPattern: UInt32(try bigEndian(payload, 4))))
            case .uint16: value = .uint16(UInt16(try bigEndian(payload, size)))
            case .uint32: value = .uint32(UInt32(try bigEndian(payload, size)))
            case .uint64: value = .uint64(try bigEndian(payload, size))
            case .int32: value = .int32(Int32(bitPattern: UInt32(try bigEndian(payload, size))))
            case .uint128:
                let highLength = max(0, size - 8)
                value = .uint128(
                    high: try bigEndian(payload, highLength),
                    low: try bigEndian(payload + highLength, size - highLength))
            case .boolean: value = .bool(size == 1)
            default: preconditionFailure("handled above")
            }
        }
        return (value, afterPointer ?? next)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
