#!/usr/bin/env python3
"""An independent verifier for a Residency ledger export, sharing no code with Residency.

Given the verifier key, a checkpoint note, the entries (JSON lines from `residency ledger entries`) and
inclusion proofs (JSON from `residency ledger prove`), it checks with hashlib and the `cryptography`
package's Ed25519: the note's signature and key id (C2SP signed-note), every leaf hash (RFC 6962:
SHA-256(0x00 || entry)), the Merkle tree hash of all entries against the signed root, and every inclusion
proof (RFC 9162 section 2.1.3.2). Exits 1 on the first failure.
"""
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    """RFC 6962 section 2.1 Merkle Tree Hash, written from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


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


def main(key_file, note_file, entries_file, *proof_files):
    name, key_id_hex, key_b64 = open(key_file).read().strip().split("+", 2)
    key = base64.b64decode(key_b64)
    if key[0] != 0x01 or len(key) != 33:
        fail("verifier key is not an Ed25519 signed-note key")
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if key_id.hex() != key_id_hex:
        fail("verifier key id does not match SHA-256(name || 0x0A || 0x01 || key)")
    note = open(note_file).read()
    text, signatures = note.rsplit("\n\n", 1)
    text += "\n"
    ok = False
    for line in signatures.strip().split("\n"):
        dash, signer, sig_b64 = line.split(" ")
        sig = base64.b64decode(sig_b64)
        if dash == "\u2014" and signer == name and sig[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(sig[4:], text.encode())  # raises if invalid
            ok = True
    if not ok:
        fail("no signature line by " + name)
    origin, size, root_b64 = text.rstrip("\n").split("\n")
    size, root = int(size), base64.b64decode(root_b64)

    leaves = []
    for number, line in enumerate(open(entries_file)):
        row = json.loads(line)
        if row["index"] != number or row["entry"]["index"] != number:
            fail(f"entry {number} is out of place")
        # The entry as stored is canonical JSON: sorted keys, no whitespace, no floats.
        entry = json.dumps(row["entry"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        leaf = leaf_hash(entry)
        if leaf.hex() != row["leaf_hash"]:
            fail(f"entry {number}: leaf hash mismatch")
        leaves.append(leaf)
    if len(leaves) < size:
        fail(f"the checkpoint covers {size} entries, the export has {len(leaves)}")
    if mth(leaves[:size]) != root:
        fail(f"the Merkle tree hash of the first {size} entries is not the signed root")
    for proof_file in proof_files:
        proof = json.load(open(proof_file))
        path = [bytes.fromhex(h) for h in proof["proof"]]
        if proof["size"] == size and bytes.fromhex(proof["root"]) != root:
            fail(f"{proof_file}: root differs from the checkpoint")
        if not verify_inclusion(leaves[proof["index"]], proof["index"], proof["size"], path, mth(leaves[: proof["size"]])):
            fail(f"{proof_file}: inclusion proof of entry {proof['index']} does not verify")
    print(f"OK: {origin}, {size} entries, signature, leaf hashes, root and {len(proof_files)} inclusion proofs verified independently")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: verify_ledger.py KEY NOTE ENTRIES.jsonl [PROOF.json ...]")
    main(*sys.argv[1:])
