"""LZF, the compression of RDB strings (rdbcompression, DUMP payloads): liblzf 3.6's
format, and its compressor as Redis builds it (HLOG 16, VERY_FAST) so compressed strings
are byte-identical to redis-server's (its hash table taken as starting empty)."""

from __future__ import annotations


def _slot(h: int) -> int:
    return ((h >> 8) - h * 5) & 0xFFFF


def compress(data: bytes, out_len: int) -> bytes | None:
    """liblzf's lzf_compress: None when the result would not fit in out_len bytes."""
    in_len = len(data)
    if not in_len or not out_len:
        return None
    htab: dict[int, int] = {}  # hash slot -> position; absent = 0, never a valid match
    out = bytearray(b"\x00")  # out[run] holds the current literal run's length - 1
    run = 0
    lit = 0
    ip = 0
    hval = (data[0] << 8) | data[1] if in_len > 1 else 0
    find = htab.get
    while ip < in_len - 2:
        # The slot depends on the hash's low 24 bits only (liblzf keeps 32).
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFF
        slot = ((hval >> 8) - hval * 5) & 0xFFFF
        ref = find(slot, 0)
        htab[slot] = ip
        off = ip - ref - 1  # ref < ip always: slots only hold earlier positions
        if (ref and off < 8192 and data[ref + 2] == data[ip + 2]
                and data[ref] == data[ip] and data[ref + 1] == data[ip + 1]):
            op = len(out)
            if op + 4 >= out_len and op - (lit == 0) + 4 >= out_len:
                return None
            if lit:
                out[run] = lit - 1
            else:
                del out[-1]  # no literals: drop the run's length byte
            maxlen = min(in_len - ip - 2, 264)
            length = 2
            if maxlen > 16:  # liblzf compares 16 bytes unconditionally first
                for _ in range(16):
                    length += 1
                    if data[ref + length] != data[ip + length]:
                        break
                else:
                    length += 1
                    while length < maxlen and data[ref + length] == data[ip + length]:
                        length += 1
            else:
                length += 1
                while length < maxlen and data[ref + length] == data[ip + length]:
                    length += 1
            length -= 2
            ip += 1
            if length < 7:
                out.append((off >> 8) + (length << 5))
            else:
                out.append((off >> 8) + (7 << 5))
                out.append(length - 7)
            out.append(off & 0xFF)
            run = len(out)
            out.append(0)
            lit = 0
            ip += length + 1
            if ip >= in_len - 2:
                break
            ip -= 2  # hash the last two positions of the match
            hval = (data[ip] << 8) | data[ip + 1]
            for _ in range(2):
                hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFF
                htab[_slot(hval)] = ip
                ip += 1
        else:
            if len(out) >= out_len:
                return None
            lit += 1
            out.append(data[ip])
            ip += 1
            if lit == 32:
                out[run] = 31
                run = len(out)
                out.append(0)
                lit = 0
    if len(out) + 3 > out_len:
        return None
    while ip < in_len:
        lit += 1
        out.append(data[ip])
        ip += 1
        if lit == 32:
            out[run] = 31
            run = len(out)
            out.append(0)
            lit = 0
    if lit:
        out[run] = lit - 1
    else:
        del out[-1]
    return bytes(out)




def decompress(data: bytes, size: int) -> bytes | None:
    """The inverse of compress; None when data does not inflate to exactly size bytes."""
    out = bytearray()
    i = 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # a literal run
            out += data[i : i + ctrl + 1]
            i += ctrl + 1
            continue
        n = ctrl >> 5
        if n == 7:
            if i >= len(data):
                return None
            n += data[i]
            i += 1
        if i >= len(data):
            return None
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
        i += 1
        if ref < 0:
            return None
        for k in range(n + 2):  # back references may overlap what they produce
            out.append(out[ref + k])
    if len(out) != size:
        return None
    return bytes(out)
