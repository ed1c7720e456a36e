//! Generated inputs, one raw case type per function, each convertible to the Rust
//! and the C form. `realistic` picks the benchmark mix (no BUG paths, typical
//! values); otherwise the generators reach the edges (extremes, BUG paths, every
//! recover_size) for the equivalence test.

use gdlm_core::ast::AstInput;
use gdlm_core::consts::*;
use gdlm_core::flags::{LmFlags, LockContext};
use gdlm_core::lvb::ControlLvb;
use gdlm_core::mode::{DlmMode, LmState};
use gdlm_core::name::LockName;
use gdlm_core::recovery::{ControlTicket, RecoverFlags, Recovery, SizePolicy};
use gdlm_core::stats::{LkStats, StatPair};

use crate::ffi;

/// `rng.pick(&[..])` with the items evaluated first (they may draw from `rng`).
macro_rules! pick {
    ($rng:expr, [$($item:expr),+ $(,)?]) => {{
        let items = [$($item),+];
        $rng.pick(&items)
    }};
}
use crate::{RsControl, RsGlock};

/// splitmix64: small, deterministic, good enough for test inputs.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability 1/n.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    /// One of the items.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    /// A value of random bit length (0..=64 bits), so every digit count appears.
    pub fn any_width(&mut self) -> u64 {
        let bits = self.below(65);
        if bits == 0 {
            0
        } else {
            self.next_u64() >> (64 - bits)
        }
    }
    /// 32 random bytes.
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        b
    }
}

// ------------------------------------------------------------------ lock name

/// `gdlm_lock`'s name input.
#[derive(Clone, Copy, Debug)]
pub struct NameCase {
    /// `ln_type`.
    pub ln_type: u32,
    /// `ln_number`.
    pub ln_number: u64,
}

/// Name cases.
pub fn name_cases(rng: &mut Rng, n: usize, realistic: bool) -> Vec<NameCase> {
    (0..n)
        .map(|_| {
            if realistic {
                // inode/rgrp/iopen/flock/quota… locks on block numbers of a large fs
                NameCase {
                    ln_type: pick!(rng, [2, 2, 2, 3, 5, 5, 6, 8, 9]),
                    ln_number: 0x10 + rng.below(1 << 34),
                }
            } else {
                NameCase {
                    ln_type: if rng.one_in(2) {
                        rng.below(10) as u32
                    } else {
                        rng.any_width() as u32
                    },
                    ln_number: pick!(rng, [0, u64::MAX, 1, rng.any_width(), rng.any_width()]),
                }
            }
        })
        .collect()
}

impl NameCase {
    /// Rust form.
    pub fn rust(&self) -> LockName {
        LockName::new(self.ln_type, self.ln_number)
    }
    /// C form.
    pub fn c(&self) -> ffi::LmLockname {
        ffi::LmLockname {
            ln_number: self.ln_number,
            ln_type: self.ln_type,
        }
    }
}

// ------------------------------------------------------------------ make_flags

/// `make_flags` input.
#[derive(Clone, Copy, Debug)]
pub struct FlagsCase {
    /// The glock has an LVB.
    pub has_lvb: bool,
    /// GFS2 flags (any bits).
    pub gfs_flags: u32,
    /// DLM mode requested (-1..=5).
    pub req: i32,
    /// `sb_lkid`.
    pub lkid: u32,
    /// `GLF_BLOCKING`.
    pub blocking: bool,
}

/// make_flags cases; realistic ones never hit the BUG of LM_FLAG_ANY.
pub fn flags_cases(rng: &mut Rng, n: usize, realistic: bool) -> Vec<FlagsCase> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        let c = if realistic {
            let req = pick!(rng, [DLM_LOCK_NL, DLM_LOCK_EX, DLM_LOCK_CW, DLM_LOCK_PR]);
            let mut f = pick!(
                rng,
                [0, 0, LM_FLAG_TRY, LM_FLAG_TRY_1CB, LM_FLAG_NOEXP, 0x0040]
            );
            if (req == DLM_LOCK_PR || req == DLM_LOCK_CW) && rng.one_in(4) {
                f |= LM_FLAG_ANY;
            }
            if rng.one_in(8) {
                f |= LM_FLAG_PRIORITY;
            }
            FlagsCase {
                has_lvb: rng.one_in(3),
                gfs_flags: f,
                req,
                lkid: if rng.one_in(3) { 0 } else { rng.next_u32() | 1 },
                blocking: rng.one_in(2),
            }
        } else {
            FlagsCase {
                has_lvb: rng.one_in(2),
                gfs_flags: if rng.one_in(4) {
                    rng.next_u32()
                } else {
                    rng.below(0x20) as u32
                },
                req: rng.below(7) as i32 - 1,
                lkid: pick!(rng, [0, 1, u32::MAX, rng.next_u32()]),
                blocking: rng.one_in(2),
            }
        };
        v.push(c);
    }
    v
}

impl FlagsCase {
    /// Rust form: flags, mode, context.
    pub fn rust(&self) -> (LmFlags, DlmMode, LockContext) {
        (
            LmFlags::from_bits_retain(self.gfs_flags),
            DlmMode::try_from(self.req).expect("req in -1..=5"),
            LockContext {
                has_lvb: self.has_lvb,
                converting: self.lkid != 0,
                glf_blocking: self.blocking,
                cur: None,
            },
        )
    }
    /// C form: the glock (build [`ffi::Glocks`] from these), flags, mode.
    pub fn c(&self) -> (ffi::Gfs2Glock, u32, i32) {
        let mut gl = blank_glock();
        if self.has_lvb {
            gl.gl_lksb.sb_lvbptr = gl.gl_lvb.as_mut_ptr().cast(); // re-pointed by Glocks::new
        }
        gl.gl_lksb.sb_lkid = self.lkid;
        if self.blocking {
            gl.gl_flags |= 1 << ffi::GLF_BLOCKING;
        }
        (gl, self.gfs_flags, self.req)
    }
}

fn blank_glock() -> ffi::Gfs2Glock {
    ffi::Gfs2Glock {
        gl_flags: 0,
        gl_state: 0,
        gl_req: 0,
        gl_lksb: ffi::DlmLksb {
            sb_status: 0,
            sb_lkid: 0,
            sb_flags: 0,
            sb_lvbptr: core::ptr::null_mut(),
        },
        gl_lvb: [0; 32],
        gl_action: ffi::REF_AST_NONE,
        gl_ret: 0,
    }
}

// ------------------------------------------------------------------ gdlm_ast

/// `gdlm_ast` input.
#[derive(Clone, Copy, Debug)]
pub struct AstCase {
    /// `gl_state` 0..=3.
    pub gl_state: u32,
    /// `gl_req` 0..=3.
    pub gl_req: u32,
    /// `sb_status`.
    pub sb_status: i32,
    /// `sb_flags`.
    pub sb_flags: u8,
    /// Has an LVB.
    pub has_lvb: bool,
    /// The LVB's bytes.
    pub lvb: [u8; 32],
    /// `GLF_INITIAL`.
    pub glf_initial: bool,
    /// `sb_lkid`.
    pub lkid: u32,
}

/// AST cases; realistic ones are grants (mostly), try failures, cancels and
/// unlocks, never a BUG.
pub fn ast_cases(rng: &mut Rng, n: usize, realistic: bool) -> Vec<AstCase> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        let c = if realistic {
            let gl_req = rng.below(4) as u32;
            let sb_status = pick!(rng, [0, 0, 0, 0, 0, -EAGAIN, -DLM_ECANCEL, -DLM_EUNLOCK]);
            let mut sb_flags = 0u8;
            if rng.one_in(8) {
                sb_flags |= DLM_SBF_VALNOTVALID;
            }
            if (gl_req == LM_ST_SHARED || gl_req == LM_ST_DEFERRED) && rng.one_in(6) {
                sb_flags |= DLM_SBF_ALTMODE;
            }
            AstCase {
                gl_state: rng.below(4) as u32,
                gl_req,
                sb_status,
                sb_flags,
                has_lvb: rng.one_in(3),
                lvb: rng.bytes32(),
                glf_initial: !rng.one_in(4),
                lkid: rng.next_u32() | 1,
            }
        } else {
            AstCase {
                gl_state: rng.below(4) as u32,
                gl_req: rng.below(4) as u32,
                sb_status: pick!(
                    rng,
                    [
                        0,
                        -DLM_EUNLOCK,
                        -DLM_ECANCEL,
                        -EAGAIN,
                        -EDEADLK,
                        -ETIMEDOUT,
                        rng.next_u32() as i32,
                        -1,
                    ]
                ),
                sb_flags: if rng.one_in(2) {
                    rng.below(256) as u8
                } else {
                    pick!(rng, [0, DLM_SBF_VALNOTVALID, DLM_SBF_ALTMODE, 6])
                },
                has_lvb: rng.one_in(2),
                lvb: rng.bytes32(),
                glf_initial: rng.one_in(2),
                lkid: pick!(rng, [0, rng.next_u32()]),
            }
        };
        v.push(c);
    }
    v
}

impl AstCase {
    /// Rust form.
    pub fn rust(&self) -> RsGlock {
        RsGlock {
            ast: AstInput {
                gl_state: LmState::try_from(self.gl_state).expect("0..=3"),
                gl_req: LmState::try_from(self.gl_req).expect("0..=3"),
                sb_status: self.sb_status,
                sb_flags: self.sb_flags,
                has_lvb: self.has_lvb,
                glf_initial: self.glf_initial,
                lkid: self.lkid,
                dead: false,
            },
            lvb: self.lvb,
            action: ffi::REF_AST_NONE,
            ret: 0,
        }
    }
    /// C form (build [`ffi::Glocks`] from these).
    pub fn c(&self) -> ffi::Gfs2Glock {
        let mut gl = blank_glock();
        gl.gl_state = self.gl_state;
        gl.gl_req = self.gl_req;
        gl.gl_lksb.sb_status = self.sb_status;
        gl.gl_lksb.sb_flags = self.sb_flags as core::ffi::c_char;
        gl.gl_lksb.sb_lkid = self.lkid;
        gl.gl_lvb = self.lvb;
        if self.has_lvb {
            gl.gl_lksb.sb_lvbptr = gl.gl_lvb.as_mut_ptr().cast(); // re-pointed by Glocks::new
        }
        if self.glf_initial {
            gl.gl_flags |= 1 << ffi::GLF_INITIAL;
        }
        gl
    }
}

// ------------------------------------------------------------------ stats

/// `gfs2_update_stats` input.
#[derive(Clone, Copy, Debug)]
pub struct StatsCase {
    /// The eight counters before.
    pub stats: [i64; 8],
    /// Index of the mean: 0, 2 or 4.
    pub index: u32,
    /// The sample (ns).
    pub sample: i64,
}

/// Stats cases; realistic ones are round-trip times of 1 µs – 10 ms on sane stats.
pub fn stats_cases(rng: &mut Rng, n: usize, realistic: bool) -> Vec<StatsCase> {
    let edge = [i64::MIN, i64::MAX, -1, 0, 1, i64::MIN + 1];
    (0..n)
        .map(|_| {
            let index = pick!(rng, [0u32, 2, 4]);
            if realistic {
                let mut stats = [0i64; 8];
                for s in stats.iter_mut().take(6) {
                    *s = rng.below(10_000_000) as i64;
                }
                StatsCase {
                    stats,
                    index,
                    sample: 1_000 + rng.below(10_000_000) as i64,
                }
            } else {
                let mut stats = [0i64; 8];
                for s in stats.iter_mut() {
                    *s = if rng.one_in(3) {
                        rng.pick(&edge)
                    } else {
                        rng.next_u64() as i64
                    };
                }
                StatsCase {
                    stats,
                    index,
                    sample: if rng.one_in(3) {
                        rng.pick(&edge)
                    } else {
                        rng.next_u64() as i64
                    },
                }
            }
        })
        .collect()
}

impl StatsCase {
    /// Rust form.
    pub fn rust(&self) -> (LkStats, StatPair, i64) {
        (
            LkStats { stats: self.stats },
            StatPair::from_index(self.index as usize).expect("0, 2 or 4"),
            self.sample,
        )
    }
    /// C form.
    pub fn c(&self) -> (ffi::Gfs2Lkstats, u32, i64) {
        (
            ffi::Gfs2Lkstats { stats: self.stats },
            self.index,
            self.sample,
        )
    }
}

// ------------------------------------------------------------------ LVB

/// `control_lvb_read` / `control_lvb_write` input.
#[derive(Clone, Copy, Debug)]
pub struct LvbCase {
    /// The 32 LVB bytes (read: ls_control_lvb; write: lvb_bits).
    pub bytes: [u8; 32],
    /// The generation to write.
    pub gen: u32,
}

/// LVB cases.
pub fn lvb_cases(rng: &mut Rng, n: usize) -> Vec<LvbCase> {
    (0..n)
        .map(|_| LvbCase {
            bytes: rng.bytes32(),
            gen: pick!(rng, [0, u32::MAX, rng.next_u32()]),
        })
        .collect()
}

// ------------------------------------------------------------------ control step

/// The state the middle of `gfs2_control_func` starts from.
#[derive(Clone, Debug)]
pub struct ControlCase {
    /// `ls_recover_block` / `ls_recover_start` as seen after the EX grant.
    pub recover_block: u32,
    /// See `recover_block`.
    pub recover_start: u32,
    /// The generations read at the start of the step (L600-601).
    pub ticket: ControlTicket,
    /// `ls_control_lvb` as granted with EX.
    pub control_lvb: [u8; 32],
    /// `ls_lvb_bits` before (overwritten by the read).
    pub lvb_bits: [u8; 32],
    /// `ls_recover_submit[..recover_size]`.
    pub submit: Vec<u32>,
    /// `ls_recover_result[..recover_size]`.
    pub result: Vec<u32>,
}

fn lvb_with(gen: u32, bits: &[u32], rng: &mut Rng) -> [u8; 32] {
    let mut l = ControlLvb::zeroed();
    l.set_generation(gen);
    for &j in bits {
        let _ = l.set_jid(j, true);
    }
    let mut b = *l.as_bytes();
    b[4..8].copy_from_slice(&rng.next_u32().to_le_bytes()); // unused bytes carried through
    b
}

/// Control cases. Realistic: `recover_size` 32, a handful of failed jids (submit)
/// and of journal recovery results, the LVB one generation behind, current or
/// (rarely) ahead, a stale ticket now and then. Otherwise: any recover_size
/// 0..=192, dense arrays of generations near start_gen, random LVB bits.
pub fn control_cases(rng: &mut Rng, n: usize, realistic: bool) -> Vec<ControlCase> {
    (0..n)
        .map(|_| {
            let start = 100 + rng.below(1000) as u32;
            let block = start - 1 - rng.below(3) as u32;
            let size = if realistic {
                32
            } else {
                pick!(
                    rng,
                    [
                        0,
                        1,
                        7,
                        8,
                        9,
                        16,
                        31,
                        32,
                        33,
                        64,
                        100,
                        191,
                        192,
                        rng.below(193) as usize
                    ]
                )
            };
            let mut submit = vec![0u32; size];
            let mut result = vec![0u32; size];
            let lvb_gen;
            let mut bits: Vec<u32> = Vec::with_capacity(64);
            if realistic {
                for _ in 0..3 {
                    let j = rng.below(size as u64) as usize;
                    submit[j] = pick!(rng, [block, block, start - 2, start]);
                }
                for _ in 0..3 {
                    let j = rng.below(size as u64) as usize;
                    result[j] = pick!(rng, [LM_RD_SUCCESS, LM_RD_SUCCESS, LM_RD_GAVEUP]);
                }
                for _ in 0..rng.below(4) {
                    bits.push(rng.below(size as u64) as u32);
                }
                lvb_gen = pick!(rng, [start - 1, start - 1, start, start, start, start + 1]);
            } else {
                for s in submit.iter_mut() {
                    *s = if rng.one_in(2) {
                        0
                    } else {
                        pick!(
                            rng,
                            [
                                block,
                                start - 1,
                                start,
                                start + 1,
                                u32::MAX,
                                1,
                                rng.next_u32()
                            ]
                        )
                    };
                }
                for r in result.iter_mut() {
                    *r = pick!(
                        rng,
                        [
                            0,
                            0,
                            LM_RD_SUCCESS,
                            LM_RD_SUCCESS,
                            LM_RD_GAVEUP,
                            rng.next_u32()
                        ]
                    );
                }
                for _ in 0..rng.below(40) {
                    bits.push(rng.below(192) as u32);
                }
                lvb_gen = pick!(
                    rng,
                    [start - 1, start, start + 1, 0, u32::MAX, rng.next_u32()]
                );
            }
            let control_lvb = lvb_with(lvb_gen, &bits, rng);
            let stale = rng.one_in(if realistic { 16 } else { 6 });
            let ticket = ControlTicket {
                block_gen: block,
                start_gen: start,
                recover_size: 0,
            };
            let (recover_block, recover_start) = if stale {
                // a recover_prep (block = start) or a recover_done (start + 1) came meanwhile
                if rng.one_in(2) {
                    (start, start)
                } else {
                    (block, start + 1)
                }
            } else {
                (block, start)
            };
            ControlCase {
                recover_block,
                recover_start,
                ticket,
                control_lvb,
                lvb_bits: rng.bytes32(),
                submit,
                result,
            }
        })
        .collect()
}

/// The flags of a mounted node during recovery.
pub const CONTROL_FLAGS: RecoverFlags = RecoverFlags::MOUNT_DONE.union(RecoverFlags::BLOCK_LOCKS);

impl ControlCase {
    /// Rust form.
    pub fn rust(&self) -> RsControl {
        let rec = Recovery::from_parts(
            SizePolicy::Reference,
            CONTROL_FLAGS,
            1,
            self.recover_start,
            self.recover_block,
            &self.submit,
            &self.result,
            0,
            ControlLvb::from_array(self.lvb_bits),
        )
        .expect("recover_size ≤ 192");
        RsControl {
            rec,
            control_lvb: ControlLvb::from_array(self.control_lvb),
        }
    }
    /// C form.
    pub fn c(&self) -> ffi::LmLockstruct {
        assert!(self.submit.len() <= ffi::MAX_JIDS && self.submit.len() == self.result.len());
        let mut ls = ffi::LmLockstruct {
            ls_recover_flags: CONTROL_FLAGS.bits().into(),
            ls_recover_block: self.recover_block,
            ls_recover_start: self.recover_start,
            ls_recover_size: self.submit.len() as u32,
            ls_recover_submit: [0; ffi::MAX_JIDS],
            ls_recover_result: [0; ffi::MAX_JIDS],
            ls_control_lvb: self.control_lvb,
            ls_lvb_bits: self.lvb_bits,
        };
        ls.ls_recover_submit[..self.submit.len()].copy_from_slice(&self.submit);
        ls.ls_recover_result[..self.result.len()].copy_from_slice(&self.result);
        ls
    }
}
