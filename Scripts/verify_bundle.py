#!/usr/bin/env python3
"""Checks a Residency proof bundle offline, with no project code: Python's hashlib and the `cryptography` package.

Usage: Scripts/verify_bundle.py BUNDLE.json TRUST.json
  BUNDLE: {"checkpoint": note, "entries": [{"index": i, "entry": exact bytes, "proof": [base64 hash, ...]}]}
          (residency ledger export-entry, or GET /v1/tenants/{id}/transparency)
  TRUST:  {"log": vkey, "quorum": k, "witnesses": [{"key": vkey, "url": ...}]}   (residency ledger trust)

Checks the checkpoint's signature by the log key (C2SP signed-note, Ed25519), the cosignatures of at least
`quorum` distinct trusted witnesses (C2SP tlog-cosignature v1), and each entry's RFC 9162 inclusion proof.
Exits 0 when everything verifies, 1 naming what does not.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014"


def parse_vkey(text, algorithm):
    name, key_id, key = text.strip().split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != algorithm:
        raise ValueError(f"key {name}: expected algorithm 0x{algorithm:02x} and 32 bytes")
    expected = hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + raw[1:]).digest()[:4]
    if expected.hex() != key_id:
        raise ValueError(f"key {name}: its id does not match")
    return name, expected, Ed25519PublicKey.from_public_bytes(raw[1:])


def split_note(note):
    while note.endswith("\n\n"):
        note = note[:-1]
    text, _, signatures = note.rpartition("\n\n")
    return text + "\n", [line for line in signatures.split("\n") if line]


def signature_bytes(line, name):
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
        return None
    return base64.b64decode(parts[2])


def verifies(key, signature, message):
    try:
        key.verify(signature, message)
        return True
    except InvalidSignature:
        return False


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main(bundle_path, trust_path):
    bundle = json.load(open(bundle_path, encoding="utf-8"))
    trust = json.load(open(trust_path, encoding="utf-8"))
    log_name, log_id, log_key = parse_vkey(trust["log"], 0x01)
    text, signatures = split_note(bundle["checkpoint"])
    if not any(
        (sig := signature_bytes(line, log_name)) and len(sig) == 68 and sig[:4] == log_id
        and verifies(log_key, sig[4:], text.encode())
        for line in signatures
    ):
        return f"the checkpoint has no valid signature by {log_name}"
    origin, size_text, root_text = text.split("\n")[:3]
    if origin != log_name:
        return f"the checkpoint is of log {origin}, not {log_name}"
    size, root = int(size_text), base64.b64decode(root_text)
    cosigners = []
    for witness in trust["witnesses"]:
        name, key_id, key = parse_vkey(witness["key"], 0x04)
        for line in signatures:
            sig = signature_bytes(line, name)
            if not sig or len(sig) != 76 or sig[:4] != key_id:
                continue
            timestamp = int.from_bytes(sig[4:12], "big")
            message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
            if verifies(key, sig[12:], message):
                cosigners.append(name)
                break
    if len(cosigners) < trust["quorum"]:
        return f"{len(cosigners)} valid cosignatures ({', '.join(cosigners)}); the quorum is {trust['quorum']}"
    for item in bundle["entries"]:
        proof = [base64.b64decode(p) for p in item["proof"]]
        if not verify_inclusion(leaf_hash(item["entry"].encode()), item["index"], size, proof, root):
            return f"entry {item['index']} is not proven in the log of size {size}"
    print(f"verified {len(bundle['entries'])} entries in {origin} at size {size}, "
          f"cosigned by {', '.join(cosigners) or 'no witness'} (quorum {trust['quorum']})")
    return None


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    problem = main(sys.argv[1], sys.argv[2])
    if problem:
        print(f"FAILED: {problem}", file=sys.stderr)
        sys.exit(1)
