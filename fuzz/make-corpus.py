#!/usr/bin/env python3
"""Seed corpora for the gdlm-core fuzz targets, generated from the golden vectors.

    python3 fuzz/make-corpus.py            # from core/tests/vectors, into fuzz/corpus/

Raw-byte targets (lvb_decode, lock_name, mount_table) get the bytes themselves.
Structured targets (stats, ast, recovery_events, membership) take `arbitrary`-derived inputs, so
this script writes the byte encoding `arbitrary` 1.x reads for the types declared in
fuzz_targets/*.rs: integers little-endian, bool = one byte (& 1), enum = a u32 tag
t with (t * variants) >> 32 == index, Option = bool + value, Vec = (1, element)*
then 0. Check a file with `cargo +nightly fuzz fmt <target> <file>` after changing
a type. Output is deterministic; each target gets at most MAX_FILES files.
"""
import hashlib
import json
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEC = os.environ.get("GDLM_VECTORS", os.path.join(ROOT, "core", "tests", "vectors"))
OUT = os.path.join(ROOT, "fuzz", "corpus")
MAX_FILES = 300


def load(fn):
    with open(os.path.join(VEC, fn + ".jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def every(xs, n):
    """At most n items, evenly spread (deterministic)."""
    if len(xs) <= n:
        return list(xs)
    step = len(xs) / n
    return [xs[int(i * step)] for i in range(n)]


# --- arbitrary 1.x encoding -------------------------------------------------
def u8(v): return struct.pack("<B", v & 0xFF)
def i8(v): return struct.pack("<b", v)
def boolean(v): return b"\x01" if v else b"\x00"
def i16(v): return struct.pack("<h", v)
def u32(v): return struct.pack("<I", v & 0xFFFFFFFF)
def i32(v): return struct.pack("<i", v)
def u64(v): return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)
def i64(v): return struct.pack("<q", v)


def tag(index, count):
    t = -(-(index << 32) // count)  # ceil(index * 2^32 / count)
    assert (t * count) >> 32 == index and t < 1 << 32
    return u32(t)


def vec(items): return b"".join(b"\x01" + x for x in items) + b"\x00"
def opt(x): return b"\x00" if x is None else b"\x01" + x


class Corpus:
    def __init__(self, target):
        self.dir = os.path.join(OUT, target)
        self.seen = {}

    def add(self, name, data):
        h = hashlib.sha1(data).hexdigest()
        if h not in self.seen:
            self.seen[h] = (name, data)

    def write(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        items = sorted(self.seen.values())
        assert len(items) <= MAX_FILES, (self.dir, len(items))
        for name, data in items:
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(data)
        return len(items), sum(len(d) for _, d in items)


# --- lvb_decode ---------------------------------------------------------------
def lvb_decode():
    c = Corpus("lvb_decode")
    lvbs = []
    for v in load("lvb_read"):
        lvbs.append(("lvb_read-%d" % v["id"], v["in"]["lvb"]))
    for v in load("lvb_write"):
        lvbs.append(("lvb_write-%d" % v["id"], v["out"]["lvb"]))
    for v in load("jid_bits"):
        lvbs.append(("jid_bits-%d" % v["id"], v["in"]["lvb"]))
    for name, hx in every(lvbs, 260):
        c.add(name, bytes.fromhex(hx))
    c.add("edge-zero", bytes(32))
    c.add("edge-disabled", b"\xff" * 4 + bytes(28))
    c.add("edge-all-ff", b"\xff" * 32)
    c.add("edge-jid191", bytes(31) + b"\x80")
    for n in (0, 1, 4, 8, 24, 25, 31, 33, 64):
        c.add("edge-len%d" % n, bytes((i * 37) & 0xFF for i in range(n)))
    return c


# --- lock_name ------------------------------------------------------------------
def lock_name():
    c = Corpus("lock_name")
    names = [("lock_name-%d" % v["id"], v["out"]["name"].encode()) for v in load("lock_name")]
    names += [("sync_lock_name-%d" % v["id"], v["out"]["name"].encode()) for v in load("sync_lock_name")]
    for name, b in every(names, 180):
        c.add(name, b)
    strnames = [("gdlm_lock-%d" % v["id"], bytes.fromhex(v["out"]["name"]))
                for v in load("gdlm_lock") if v["out"].get("name") and int(v["out"]["name"], 16)]
    for name, b in every(strnames, 30):
        c.add(name, b)  # 25 bytes, NUL-terminated
    # Blank style (Linux <= 3.9) and malformed variants of real names.
    for name, b in every(names, 20):
        t, n = b[:8], b[8:]
        if t.strip() == b"0":
            c.add(name + "-blanktype", b" " * 8 + n)
        if n.strip() == b"0":
            c.add(name + "-blanknum", t + b" " * 16)
        c.add(name + "-upper", b.upper())
        c.add(name + "-short", b[1:])
        c.add(name + "-nonul", b + b"x")
        c.add(name + "-zeropad", b.replace(b" ", b"0"))
    c.add("blank-all", b" " * 24)
    c.add("leading-zero", b"       2            0012")
    return c


# --- stats --------------------------------------------------------------------
PAIR = {0: 0, 2: 1, 4: 2}  # stats index -> Pair variant


def stats_input(stats, per_type, dstamp, ln_type, ops):
    return (b"".join(i64(int(s)) for s in stats) + b"".join(i64(int(s)) for s in per_type)
            + i64(dstamp) + u32(ln_type) + vec(ops))


def op_update(index, sample):
    return tag(0, 8) + tag(PAIR[index], 3) + i64(int(sample))


def t_abs(v): return tag(0, 2) + i64(v)
def t_step(d): return tag(1, 2) + i16(d)


def stats():
    c = Corpus("stats")
    for v in every(load("update_stats"), 170):
        i = v["in"]
        c.add("update_stats-%d" % v["id"], stats_input(i["stats"], [0] * 8, 0, 2,
                                                       [op_update(i["index"], i["sample"])]))
    for v in load("stats_sequence"):
        i = v["in"]
        ops = [op_update(i["index"], s) for s in i["samples"]]
        c.add("stats_sequence-%d" % v["id"], stats_input(i["stats"], i["stats"], 0, v["id"] % 12, ops))
    # Glock request/reply traffic, including clocks that step backwards.
    for k, v in enumerate(every(load("stats_sequence"), 25)):
        i = v["in"]
        ops = []
        for j, s in enumerate(i["samples"][:12]):
            d = (int(s) % 60000) - 30000
            ops.append(tag(3, 8) + t_step(d) + boolean(j % 2) + boolean(True))   # OnRequest
            ops.append(tag(1, 8) + t_step(-d) + boolean(j % 3 == 0) + boolean(True))  # Reply
            ops.append(tag(4, 8) + t_abs(int(s)) + boolean(False))                  # PutLock
        ops += [tag(5, 8), tag(6, 8), tag(7, 8) + u64(k % 6)]
        c.add("traffic-%d" % v["id"], stats_input(i["stats"], [0] * 8, int(i["samples"][0]), 2, ops))
    return c


# --- ast ------------------------------------------------------------------------
def status(s): return tag(1, 2) + i32(s)  # Status::Raw


def case_ast(i, modern=False, dead=False):
    return (tag(0, 5) + boolean(modern) + u8(i["gl_state"]) + u8(i["gl_req"]) + status(i["sb_status"])
            + u8(i["sb_flags"]) + boolean(i["has_lvb"]) + boolean(i["glf_initial"]) + u32(i["lkid"])
            + boolean(dead))


def case_put(i):
    return tag(1, 5) + u32(i["lkid"]) + boolean(i["has_lvb"]) + u8(i["gl_state"]) + boolean(i["skip_dlm_unlock"])


STATE_OF_MODE = {0: 0, 5: 1, 2: 2, 3: 3}
MODE_OF_STATE = {0: 0, 1: 5, 2: 2, 3: 3}


def case_req(gfs_flags, req_state, req_mode, has_lvb, converting, blocking, ln_type=2, number=0x1234,
             policy=(False, True, False), cur=None, blank=False):
    return (tag(3, 5) + boolean(policy[0]) + boolean(policy[1]) + boolean(policy[2]) + u32(gfs_flags)
            + u32(req_state) + i8(req_mode) + boolean(has_lvb) + boolean(converting) + boolean(blocking)
            + opt(None if cur is None else i8(cur)) + u32(ln_type) + u64(number) + boolean(blank))


def case_modes(state, mode, other, bast):
    return tag(4, 5) + u32(state) + i32(mode) + i32(other) + opt(None if bast is None else i32(bast))


def top_vec(cases):  # fuzz_target!(|cases: Vec<Case>|)
    return vec(cases)


def ast():
    c = Corpus("ast")
    av = load("ast")
    for k in range(0, len(av), 20):
        group = av[k:k + 20]
        cases = [case_ast(v["in"], modern=(k // 20) % 3 == 2, dead=(j == 0 and k % 7 == 0))
                 for j, v in enumerate(group)]
        c.add("ast-%d" % group[0]["id"], top_vec(cases))
    pv = load("put_lock")
    for k in range(0, len(pv), 8):
        cases = [case_put(v["in"]) for v in pv[k:k + 8]] + [tag(2, 5) + u32(pv[k]["in"]["lkid"])]
        c.add("put_lock-%d" % k, top_vec(cases))
    mv = load("make_flags")
    policies = [(False, True, False), (True, True, False), (False, False, True)]
    for k in range(0, len(mv), 30):
        cases = []
        for j, v in enumerate(mv[k:k + 30]):
            i = v["in"]
            st = STATE_OF_MODE.get(i["req"], 4)
            cases.append(case_req(i["gfs_flags"], st, i["req"], i["has_lvb"], i["lkid_nonzero"], i["blocking"],
                                  policy=policies[(k // 30) % 3], cur=(5 - j % 7) if j % 2 else None))
        c.add("make_flags-%d" % k, top_vec(cases))
    gv = load("gdlm_lock")
    for k in range(0, len(gv), 20):
        cases = []
        for v in gv[k:k + 20]:
            i = v["in"]
            cases.append(case_req(i["gfs_flags"], i["req_state"], MODE_OF_STATE.get(i["req_state"], -1),
                                  i["has_lvb"], i["lkid"] != 0, i["blocking"], i["type"], int(i["number"]),
                                  blank=(k // 20) % 4 == 3))
        c.add("gdlm_lock-%d" % k, top_vec(cases))
    modes = [case_modes(v["in"]["lmstate"], (v["in"]["lmstate"] % 9) - 2, 5, None) for v in load("make_mode")]
    c.add("make_mode", top_vec(modes))
    basts = [case_modes(0, v["in"]["mode"], 3, v["in"]["mode"]) for v in load("bast")]
    c.add("bast", top_vec(basts))
    return c


# --- recovery_events ----------------------------------------------------------------
def slot_v(s):
    return tag(0, 2) + u8(s + 4) if -4 <= s <= 251 else tag(1, 2) + i32(s)


def gen_next(): return tag(0, 3)
def gen_delta(d): return tag(1, 3) + i8(d) if -128 <= d <= 127 else tag(2, 3) + u32(d)
def gen_raw(g): return tag(2, 3) + u32(g)


def jid_v(j): return tag(0, 4) + u8(j) if 0 <= j <= 255 else tag(3, 4) + u32(j)


def res_v(r):
    return {309: tag(0, 3), 308: tag(1, 3)}.get(r, tag(2, 3) + u32(r))


def lvb_cluster(): return tag(0, 3)
def lvb_raw(hx): return tag(1, 3) + bytes.fromhex(hx)
def lvb_smart(g, unused, bits): return tag(2, 3) + g + u8(unused) + u32(bits)


def st_ok(): return tag(0, 4)
def st_again(): return tag(1, 4)
def st_raw(s): return tag(3, 4) + i32(s)
def st(s): return st_ok() if s == 0 else st_again() if s == -11 else st_raw(s)


NEV = 15
def cb(x): return tag(0, NEV) + x
def cb_prep(): return cb(tag(0, 4))
def cb_slot(s): return cb(tag(1, 4) + slot_v(s))
def cb_done_raw(slots, our, g): return tag(2, 4) + vec([slot_v(s) for s in slots]) + slot_v(our) + g
def cb_done(slots, our, g): return cb(cb_done_raw(slots, our, g))
def cb_result_raw(j, r): return tag(3, 4) + jid_v(j) + res_v(r)
def cb_result(j, r): return cb(cb_result_raw(j, r))


def ev_control(lvb, mid1=(), mid2=(), after_stale=False):
    return tag(1, NEV) + lvb + vec(list(mid1)) + vec(list(mid2)) + boolean(after_stale)


def ev_mount_start(): return tag(2, NEV)
def ev_mount_lock(s, lvb=None): return tag(3, NEV) + st(s) + opt(lvb)
def ev_mount_unlock(s): return tag(4, NEV) + i32(s)
def ev_sleep(): return tag(5, NEV)
def ev_interrupt(): return tag(6, NEV)
def ev_first_start(): return tag(7, NEV)
def ev_first_lock(s): return tag(8, NEV) + st(s)
def ev_first_unlock(s): return tag(9, NEV) + i32(s)
def ev_new_first(): return tag(10, NEV)
def ev_unmount(): return tag(11, NEV)
def ev_release(): return tag(12, NEV)
def ev_lockspace(r, jid=None): return tag(13, NEV) + i32(r) + opt(None if jid is None else u32(jid))
def ev_remount(): return tag(14, NEV)


def rec_input(small, reference, events):
    return boolean(small) + boolean(reference) + vec(events)


def to_mount_ex():
    return [ev_mount_start(), ev_mount_lock(0), ev_mount_lock(0), ev_sleep()]


def first_mounter():
    """First recover_done, control_mount as first mounter, then first_done."""
    return ([ev_lockspace(0), cb_done([1], 1, gen_raw(1))] + to_mount_ex()
            + [ev_mount_lock(0, lvb_cluster()), ev_mount_lock(0),
               ev_first_start(), ev_first_lock(0), ev_first_lock(0)])


def second_mounter(our=2, gen=5):
    """Another node is mounted; we mount at generation `gen` without being first."""
    return ([ev_lockspace(0), cb_done([1, our], our, gen_raw(gen))] + to_mount_ex()
            + [ev_mount_lock(0, lvb_smart(gen_delta(0), 0, 0)), ev_mount_lock(-11), ev_mount_lock(0),
               ev_mount_lock(0)])


def seq_events(events):
    out = []
    for e in events:
        k = e["ev"]
        if k == "prep":
            out.append(cb_prep())
        elif k == "slot":
            out.append(cb_slot(e["slot"]))
        elif k == "done":
            out.append(cb_done(e["slots"], e["our_slot"], gen_delta(e["generation_delta"])))
        elif k == "control":
            out.append(ev_control(lvb_cluster()))
        elif k == "result":
            out.append(cb_result(e["jid"], e["result"]))
        elif k == "first_done":
            out += [ev_new_first(), ev_first_start(), ev_first_lock(0), ev_first_lock(0)]
        else:
            raise ValueError(k)
    return out


def recovery_events():
    c = Corpus("recovery_events")
    c.add("prologue-first", rec_input(False, False, first_mounter()))
    c.add("prologue-second", rec_input(False, False, second_mounter()))
    c.add("prologue-second-16-ref", rec_input(True, True, second_mounter()))
    for v in load("recovery_sequence"):
        ev = seq_events(v["in"]["events"])
        k = v["id"]
        c.add("recovery_sequence-%d-first" % k, rec_input(k % 4 == 1, k % 2 == 1, first_mounter() + ev))
        c.add("recovery_sequence-%d-second" % k,
              rec_input(k % 4 == 2, k % 3 == 0, second_mounter() + [cb_prep()] + ev + [ev_unmount(), ev_release()]
                        + ev))
    for v in every(load("control_mount"), 40):
        i = v["in"]
        ev = [ev_lockspace(0), cb_done([1, 2], 2, gen_raw(i["start_gen"] or 1))] + to_mount_ex()
        ev += [ev_mount_lock(i["control_ex_status"], lvb_raw(i["control_lvb"])),
               ev_mount_lock(i["mounted_ex_status"]), ev_mount_lock(i["mounted_pr_status"]),
               ev_mount_lock(i["control_nl_status"]), ev_mount_unlock(0), ev_mount_unlock(0),
               ev_interrupt(), ev_mount_lock(0), ev_sleep(), ev_mount_lock(-11), ev_mount_unlock(0),
               ev_mount_unlock(0)]
        c.add("control_mount-%d" % v["id"], rec_input(v["id"] % 3 == 0, v["id"] % 2 == 0, ev))
    for v in every(load("control_first_done"), 20):
        i = v["in"]
        ev = first_mounter()[:-3] + [cb_prep(), ev_first_start(), cb_done([1, 2], 1, gen_next()),
                                     ev_first_start(), ev_first_lock(i["mounted_pr_status"]),
                                     ev_first_lock(i["control_nl_status"]), ev_first_unlock(0)]
        c.add("control_first_done-%d" % v["id"], rec_input(False, v["id"] % 2 == 0, ev))
    for v in every(load("control_func"), 60):
        i = v["in"]
        mid1 = [cb_prep()] if i["block_after_ex"] != i["block_gen"] else []
        mid2 = [cb_done([1, 2, 3], 2, gen_next())] if i["start_at_end"] != i["start_after_ex"] else []
        fails = [cb_slot(j + 1) for j, s in enumerate(i["submit"]) if s][:4]
        ev = second_mounter() + [cb_prep()] + fails + [cb_done([1, 2], 2, gen_next()),
                                                       ev_control(lvb_raw(i["control_lvb"]), mid1, mid2, True),
                                                       cb_result(0, 309), ev_control(lvb_cluster())]
        c.add("control_func-%d" % v["id"], rec_input(v["id"] % 5 == 0, v["id"] % 2 == 1, ev))
    for name in ("recover_done", "recover_slot", "recovery_result", "recover_prep"):
        for v in every(load(name), 12):
            i = v["in"]
            ev = second_mounter() + [cb_prep()]
            if name == "recover_done":
                ev += [cb_done(i["slots"], i["our_slot"], gen_raw(i["generation"]))]
            elif name == "recover_slot":
                ev += [cb_slot(i["slot"]), cb_done([1, 2], 2, gen_next()), ev_control(lvb_cluster())]
            elif name == "recovery_result":
                ev += [cb_slot(3), cb_done([1, 2], 2, gen_next()), ev_control(lvb_cluster()),
                       cb_result(i["jid"], i["result"]), ev_control(lvb_cluster())]
            else:
                ev += [ev_unmount(), cb_done([1], 2, gen_next()), ev_release(), cb_slot(1),
                       cb_result(0, 309), ev_remount()]
            c.add("%s-%d" % (name, v["id"]), rec_input(v["id"] % 2 == 0, v["id"] % 3 == 0, ev))
    return c


# --- membership ------------------------------------------------------------------
# fuzz_targets/membership.rs: Vec<Input>, Input = Follow | Raw | Bytes | Echo; members are
# (node, pid) byte pairs (node % 6, pid % 4); the target starts as founder (1, 1).
def pairs(ps): return vec([u8(a) + u8(b) for a, b in ps])
def m_follow(leave, join): return tag(0, 4) + pairs(leave) + pairs(join)
def m_raw(members, left, joined):
    return tag(1, 4) + pairs(members) + vec([u8(n) + u8(p) + u8(w) for n, p, w in left]) + pairs(joined)
def m_bytes(b): return tag(2, 4) + vec([u8(x) for x in b])
def m_echo(age, flip=None): return tag(3, 4) + u8(age) + opt(None if flip is None else u8(flip[0]) + u8(flip[1]))


def membership():
    c = Corpus("membership")
    # Joins one at a time, each agreed by a peer's sync message, then failures by each
    # CPG reason (1 join, 2 leave, 3 nodedown, 4 nodeid change, 5 procdown).
    for n in range(1, 6):
        steps = []
        for j in range(2, 2 + n):
            steps += [m_follow([], [(j, j % 4)]), m_echo(j)]
        c.add("joins-%d" % n, vec(steps))
        for why in range(6):
            c.add("joins-%d-leave-%d" % (n, why), vec(steps + [m_follow([(1, why)], []), m_echo(0)]))
            c.add("joins-%d-all-leave-%d" % (n, why),
                  vec(steps + [m_follow([(k, why) for k in range(n + 1)], []), m_echo(1)]))
    # A join and a failure in one change (what CPG delivers after a partition heals).
    c.add("join-and-leave", vec([m_follow([], [(2, 2), (3, 3)]), m_echo(2),
                                 m_follow([(1, 3)], [(4, 0)]), m_echo(1), m_echo(5)]))
    # A restarted process: same node id, new pid.
    c.add("pid-change", vec([m_follow([], [(2, 2)]), m_echo(1), m_follow([(1, 5)], [(2, 3)]), m_echo(0)]))
    # Sync messages with one byte flipped at each position (a decoder's bounds).
    for at in range(0, 40, 3):
        c.add("echo-flip-%02d" % at, vec([m_follow([], [(2, 2), (3, 1)]), m_echo(3, (at, 0x80)),
                                         m_echo(1, (at, 0x01))]))
    # Lists that do not follow from the view: we are absent, duplicates, a member both
    # left and joined, a leaver that was never there, a view beyond capacity (8).
    c.add("raw-absent", vec([m_raw([(2, 2)], [], [(2, 2)])]))
    c.add("raw-duplicate", vec([m_raw([(1, 1), (2, 2), (2, 2)], [], [(2, 2)])]))
    c.add("raw-left-and-joined", vec([m_raw([(1, 1), (2, 2)], [(2, 2, 3)], [(2, 2)])]))
    c.add("raw-ghost-leaver", vec([m_raw([(1, 1)], [(5, 3, 2)], [])]))
    c.add("raw-over-capacity", vec([m_raw([(1, 1)] + [(n, p) for n in range(6) for p in range(2)], [],
                                          [(n, p) for n in range(2, 6) for p in range(2)])]))
    # Raw bytes as a group message: empty, short, a header only, every byte value once.
    for k, b in enumerate([[], [0], [1, 0, 0, 0], [0xFF] * 12, list(range(0, 256, 7)), [0] * 64]):
        c.add("bytes-%d" % k, vec([m_follow([], [(2, 2)]), m_bytes(b), m_echo(1)]))
    return c


# --- mount_table -----------------------------------------------------------------
def mount_table():
    c = Corpus("mount_table")
    texts = ["alpha:gfs", "mycluster:myfs", "alpha:gfs:x", "c:", ":fs", "nofs", "",
             "a" * 63 + ":f", "a" * 64 + ":f", "c:" + "f" * 64, "c:" + "f" * 65,
             "jid=0x10:first=1::nodir=0:id=3:jid=2", "jid=010", "jid=-1", "jid=5x", "first=2",
             "spectator", "jid=2147483648", "jid=2147483647", "jid=+1", "first=0X1", "nodir=1",
             "id=99999999999", "jid=-", "jid=0x", "jid=08", "jid=-0", "first=1:first=0", "jid=",
             "=1", "jid=1:bogus=2", "jid=0xffffffff", "nodir=-0x1"]
    for k, t in enumerate(texts):
        c.add("text-%02d" % k, t.encode())
    return c


def main():
    total = 0
    for make in (lvb_decode, lock_name, stats, ast, recovery_events, mount_table, membership):
        c = make()
        n, size = c.write()
        total += size
        print("%-16s %4d files %8d bytes" % (os.path.basename(c.dir), n, size))
    print("total %d bytes" % total)
    if total > 2 * 1024 * 1024:
        sys.exit("corpus over 2 MB")


if __name__ == "__main__":
    main()
