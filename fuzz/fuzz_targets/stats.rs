//! Arbitrary stats arrays, timestamps and samples → `LkStats::update`,
//! `GlockStats::{on_reply, request_times, on_request, on_put_lock}` and the
//! per-type table, against a reference computed here in checked i128 arithmetic
//! and reduced to s64 the way the kernel's two's-complement arithmetic does.
#![no_main]

use arbitrary::Arbitrary;
use gdlm_core::flags::{DlmLkf, LockRequest, RequestStamp};
use gdlm_core::mode::DlmMode;
use gdlm_core::stats::{GlockStats, LkStats, StatPair, TypeStats, UnknownLockType};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Pair {
    Srtt,
    SrttB,
    Sirt,
}

/// A timestamp: absolute, or relative to the glock's stamp (small steps, including
/// backwards, which is what a non-monotonic clock does).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Time {
    Abs(i64),
    Step(i16),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    Update {
        pair: Pair,
        sample: i64,
    },
    Reply {
        now: Time,
        blocking: bool,
        per_type: bool,
    },
    Request {
        now: Time,
        per_type: bool,
    },
    OnRequest {
        now: Time,
        converting: bool,
        per_type: bool,
    },
    PutLock {
        now: Time,
        per_type: bool,
    },
    IncD,
    IncQ,
    Index(u64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    stats: [i64; 8],
    per_type: [i64; 8],
    dstamp: i64,
    ln_type: u32,
    ops: Vec<Op>,
}

const TWO64: i128 = 1 << 64;
const TWO63: i128 = 1 << 63;

/// Reduce an exact value to s64 two's complement, checked.
fn wrap(x: i128) -> i64 {
    let m = x.rem_euclid(TWO64);
    let s = if m >= TWO63 { m - TWO64 } else { m };
    i64::try_from(s).expect("reduced value fits s64")
}

/// `gfs2_update_stats` in exact arithmetic: s64 `-`, `+`, `abs64` and arithmetic `>>`
/// (floor division by a power of two).
fn ref_update(s: &mut [i64; 8], index: usize, sample: i64) {
    let mean = i128::from(s[index]);
    let delta = wrap(i128::from(sample) - mean);
    s[index] = wrap(mean + i128::from(delta).div_euclid(8));
    let absd = wrap(i128::from(delta).abs()); // abs64(S64_MIN) == S64_MIN
    let var = i128::from(s[index + 1]);
    let diff = wrap(i128::from(absd) - var);
    s[index + 1] = wrap(var + i128::from(diff).div_euclid(4));
}

fn index(p: Pair) -> usize {
    match p {
        Pair::Srtt => 0,
        Pair::SrttB => 2,
        Pair::Sirt => 4,
    }
}

fn pair(p: Pair) -> StatPair {
    match p {
        Pair::Srtt => StatPair::Srtt,
        Pair::SrttB => StatPair::SrttB,
        Pair::Sirt => StatPair::Sirt,
    }
}

fn time(t: Time, dstamp: i64) -> i64 {
    match t {
        Time::Abs(v) => v,
        Time::Step(d) => wrap(i128::from(dstamp) + i128::from(d)),
    }
}

fuzz_target!(|input: Input| {
    let mut g = GlockStats {
        stats: LkStats { stats: input.stats },
        dstamp: input.dstamp,
    };
    let mut t = LkStats {
        stats: input.per_type,
    };
    let (mut rs, mut rt, mut rd) = (input.stats, input.per_type, input.dstamp);

    // The per-type table accepts exactly the ten LM_TYPE_* slots.
    let mut table = TypeStats::<10>::new();
    assert_eq!(table.get(input.ln_type).is_ok(), input.ln_type < 10);
    match table.get_mut(input.ln_type) {
        Ok(s) => *s = t,
        Err(e) => assert_eq!(e, UnknownLockType(input.ln_type)),
    }

    for op in input.ops {
        match op {
            Op::Update { pair: p, sample } => {
                g.stats.update(pair(p), sample);
                ref_update(&mut rs, index(p), sample);
            }
            Op::Reply {
                now,
                blocking,
                per_type,
            } => {
                let now = time(now, rd);
                let got = g.on_reply(now, blocking, per_type.then_some(&mut t));
                let rtt = wrap(i128::from(now) - i128::from(rd));
                assert_eq!(got, rtt);
                let i = if blocking { 2 } else { 0 };
                ref_update(&mut rs, i, rtt);
                if per_type {
                    ref_update(&mut rt, i, rtt);
                }
                assert_eq!(StatPair::reply(blocking).index(), i);
            }
            Op::Request { now, per_type } => {
                let now = time(now, rd);
                let got = g.request_times(now, per_type.then_some(&mut t));
                let irt = wrap(i128::from(now) - i128::from(rd));
                assert_eq!(got, irt);
                rd = now;
                ref_update(&mut rs, 4, irt);
                if per_type {
                    ref_update(&mut rt, 4, irt);
                }
            }
            Op::OnRequest {
                now,
                converting,
                per_type,
            } => {
                let now = time(now, rd);
                let req = LockRequest {
                    mode: DlmMode::Ex,
                    flags: DlmLkf::empty(),
                    name: None,
                    stamp: if converting {
                        RequestStamp::UpdateRequestTimes
                    } else {
                        RequestStamp::SetDstamp
                    },
                };
                g.on_request(&req, now, per_type.then_some(&mut t));
                rs[6] = wrap(i128::from(rs[6]) + 1);
                if per_type {
                    rt[6] = wrap(i128::from(rt[6]) + 1);
                }
                if converting {
                    let irt = wrap(i128::from(now) - i128::from(rd));
                    ref_update(&mut rs, 4, irt);
                    if per_type {
                        ref_update(&mut rt, 4, irt);
                    }
                }
                rd = now;
            }
            Op::PutLock { now, per_type } => {
                let now = time(now, rd);
                g.on_put_lock(now, per_type.then_some(&mut t));
                let irt = wrap(i128::from(now) - i128::from(rd));
                rs[6] = wrap(i128::from(rs[6]) + 1);
                ref_update(&mut rs, 4, irt);
                if per_type {
                    rt[6] = wrap(i128::from(rt[6]) + 1);
                    ref_update(&mut rt, 4, irt);
                }
                rd = now;
            }
            Op::IncD => {
                g.stats.inc_dcount();
                rs[6] = wrap(i128::from(rs[6]) + 1);
            }
            Op::IncQ => {
                g.stats.inc_qcount();
                rs[7] = wrap(i128::from(rs[7]) + 1);
            }
            Op::Index(i) => {
                let i = usize::try_from(i).unwrap_or(usize::MAX);
                let p = StatPair::from_index(i);
                assert_eq!(p.is_some(), matches!(i, 0 | 2 | 4));
                if let Some(p) = p {
                    assert_eq!(p.index(), i);
                }
            }
        }
        assert_eq!(g.stats.stats, rs, "glock stats after {op:?}");
        assert_eq!(t.stats, rt, "per-type stats after {op:?}");
        assert_eq!(g.dstamp, rd, "dstamp after {op:?}");
        for p in [Pair::Srtt, Pair::SrttB, Pair::Sirt] {
            assert_eq!(g.stats.mean(pair(p)), rs[index(p)]);
            assert_eq!(g.stats.var(pair(p)), rs[index(p) + 1]);
        }
    }
});
