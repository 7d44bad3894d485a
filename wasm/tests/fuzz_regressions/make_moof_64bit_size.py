# Makes read_cmaf/moof-64bit-size-hang.bin and read_cmaf/trun-64bit-size.bin from
# read_cmaf/seed-video-iframe-range.bin (one moof + mdat written by upcast): the same fragment with the moof,
# or the trun inside it, given a 64-bit largesize header (ISO/IEC 14496-12 § 4.2). Run from this folder.
import struct

b = open("read_cmaf/seed-video-iframe-range.bin", "rb").read()
sz, = struct.unpack(">I", b[:4])
assert b[4:8] == b"moof"
new = struct.pack(">I4sQ", 1, b"moof", sz + 8) + b[8:sz]
i = new.find(b"trun") + 12  # trun data_offset: after size, type, version/flags, sample_count
d, = struct.unpack(">i", new[i:i + 4])
new = new[:i] + struct.pack(">i", d + 8) + new[i + 4:]
open("read_cmaf/moof-64bit-size-hang.bin", "wb").write(new + b[sz:])

i = b.find(b"trun") - 4
sz, = struct.unpack(">I", b[i:i + 4])
new = struct.pack(">I4sQ", 1, b"trun", sz + 8) + b[i + 8:i + sz]
d, = struct.unpack(">i", new[24:28])
new = new[:24] + struct.pack(">i", d + 8) + new[28:]
c = bytearray(b[:i] + new + b[i + sz:])
for box in (b"moof", b"traf"):
    j = c.find(box) - 4
    v, = struct.unpack(">I", c[j:j + 4])
    struct.pack_into(">I", c, j, v + 8)
open("read_cmaf/trun-64bit-size.bin", "wb").write(bytes(c))
