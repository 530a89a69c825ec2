#!/usr/bin/env python3
"""Checks that a PNG holds a rendered page: decodes it (zlib + PNG filters, 8-bit RGB/RGBA) and prints
width, height, distinct colours and the share of non-white pixels; exits 1 if it looks blank."""
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR": header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT": idat += chunk
        pos += 12 + length
    width, height, depth, colour = header[:4]
    if depth != 8 or colour not in (2, 6):
        raise SystemExit(f"{path}: unsupported PNG (depth {depth}, colour type {colour})")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous, offset = [], bytearray(stride), 0
    for _ in range(height):
        kind = raw[offset]; line = bytearray(raw[offset + 1:offset + 1 + stride]); offset += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1: line[i] = (line[i] + a) & 255
            elif kind == 2: line[i] = (line[i] + b) & 255
            elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); previous = line
    return width, height, bpp, rows

width, height, bpp, rows = decode(sys.argv[1])
colours, ink = set(), 0
for row in rows[::4]:
    for x in range(0, width * bpp, bpp * 4):
        pixel = row[x:x + 3]
        colours.add(pixel)
        if pixel != b"\xff\xff\xff": ink += 1
sampled = len(rows[::4]) * len(range(0, width * bpp, bpp * 4))
share = ink / sampled
print(f"{width}x{height} colours={len(colours)} ink={share:.3f}")
if len(colours) < 5 or share < 0.01:
    raise SystemExit("the page looks blank")
