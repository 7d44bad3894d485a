# Makes read_cmaf/defaults-only-truns.bin: 40 fragments, each a moof whose trun declares 2^20 samples with no
# per-sample fields (every sample takes tfhd's defaults: duration 1, size 0) and an empty mdat. Each
# fragment costs 104 bytes and would expand to a million sample records: the reader must bound the samples
# of a whole segment, not only of one trun (libFuzzer found it: out of memory). Run from this folder.
import struct


def box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


count = 1 << 20
out = b""
for k in range(40):
    tfhd = box(b"tfhd", struct.pack(">I", 0x020018) + struct.pack(">III", 1, 1, 0))
    tfdt = box(b"tfdt", struct.pack(">IQ", 0x01000000, k * count))
    trun = box(b"trun", struct.pack(">IIi", 0x000001, count, 104))
    moof = box(b"moof", box(b"mfhd", struct.pack(">II", 0, k + 1)) + box(b"traf", tfhd + tfdt + trun))
    assert len(moof) == 96
    out += moof + box(b"mdat", b"")
open("read_cmaf/defaults-only-truns.bin", "wb").write(out)
