# Makes segment_roundtrip/elst-delay-overflow.bin: tests/fixtures/video_only.mp4 (moov at the end, so growing
# it moves no sample data) with its elst rewritten as version 1 with one empty edit whose delay, in media
# ticks, is 2^64 - 13. Run from this folder: python3 make_elst_delay_overflow.py segment_roundtrip/elst-delay-overflow.bin
# moov_roundtrip/elst-delay-overflow.bin is that file's moov box alone.
import struct,sys
def walk(b,s,e,path,out):
    while s+8<=e:
        sz,=struct.unpack('>I',b[s:s+4]); t=b[s+4:s+8].decode('latin1')
        if sz<8: break
        out.append((path+'/'+t,s,sz))
        if t in('moov','trak','mdia','minf','stbl','edts','dinf'): walk(b,s+8,s+sz,path+'/'+t,out)
        s+=sz
src='../../../tests/fixtures/video_only.mp4'
b=bytearray(open(src,'rb').read()); out=[]; walk(b,0,len(b),'',out)
d=dict((p,(s,sz)) for p,s,sz in out)
ms=d['/moov/mvhd'][0]; movie_ts,=struct.unpack('>I',b[ms+20:ms+24])
hs=d['/moov/trak/mdia/mdhd'][0]; media_ts,=struct.unpack('>I',b[hs+20:hs+24])
print('ts',movie_ts,media_ts, file=sys.stderr)
def grow_elst(dur, media_time):
    es,esz=d['/moov/trak/edts/elst']
    new=struct.pack('>I4sBxxxI',36,b'elst',1,1)+struct.pack('>QqHH',dur,media_time,1,0)
    grow=len(new)-esz
    c=bytearray(b)
    for p in ['/moov','/moov/trak','/moov/trak/edts']:
        s,sz=d[p]; struct.pack_into('>I',c,s,sz+grow)
    return bytes(c[:es]+new+c[es+esz:])
# delay = dur * media_ts / movie_ts lands just under 2^64: the first out_dts fits, the next overflows.
target=(1<<64)-2
dur=target*movie_ts//media_ts
open(sys.argv[1],'wb').write(grow_elst(dur,-1))
