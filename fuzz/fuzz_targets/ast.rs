//! Arbitrary completions, unlocks, cancels and lock requests → `gdlm_ast`,
//! `put_lock`, `cancel`, `make_flags`, `lock_request`, `make_mode`, `bast_state`,
//! under both `AstStyle`s and any `FlagPolicy`. Never a panic; each result equals a
//! model written here from the reference, so `Err` comes exactly on the kernel's
//! `BUG()` conditions (DEMOTED, an unexpected status, ALTMODE on EX/UN, an unknown
//! state, ANY with a mode other than PR/CW) plus the core's two documented
//! refusals (`cancel` of lkid 0, a MODERN conversion without the held mode).
#![no_main]

use arbitrary::Arbitrary;
use gdlm_core::ast::{
    cancel, gdlm_ast, put_lock, AstError, AstInput, AstOutcome, AstStyle, CancelRequest, PutLock,
    PutLockInput,
};
use gdlm_core::flags::{
    is_blocking_request, is_down_conversion, lock_request, make_flags, DlmLkf, FlagPolicy,
    FlagsError, LmFlags, LockContext, QuecvtPolicy, RequestStamp, ValblkPolicy,
};
use gdlm_core::mode::{bast_state, make_mode, BastMode, DlmMode, LmState, ModeError};
use gdlm_core::name::{LockName, NameStyle};
use libfuzzer_sys::fuzz_target;

// Kernel numbers, written out here rather than taken from gdlm_core::consts.
const EAGAIN: i32 = 11;
const EDEADLK: i32 = 35;
const ETIMEDOUT: i32 = 110;
const ECANCEL: i32 = 0x10001;
const EUNLOCK: i32 = 0x10002;
const SBF_DEMOTED: u8 = 1;
const SBF_VALNOTVALID: u8 = 2;
const SBF_ALTMODE: u8 = 4;
const OUT_ERROR: u32 = 4;
const OUT_CANCELED: u32 = 8;
const OUT_DEADLOCK: u32 = 0x10;
const OUT_TRY_AGAIN: u32 = 0x20;

const STATUSES: [i32; 11] = [
    0, -EAGAIN, -EDEADLK, -ETIMEDOUT, -ECANCEL, -EUNLOCK, -22, -4, 1, -1, EUNLOCK,
];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Status {
    Known(u8),
    Raw(i32),
}

impl Status {
    fn get(self) -> i32 {
        match self {
            Status::Known(i) => STATUSES[usize::from(i) % STATUSES.len()],
            Status::Raw(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Ast {
    modern: bool,
    gl_state: u8,
    gl_req: u8,
    status: Status,
    sb_flags: u8,
    has_lvb: bool,
    glf_initial: bool,
    lkid: u32,
    dead: bool,
}

#[derive(Arbitrary, Debug)]
struct Put {
    lkid: u32,
    has_lvb: bool,
    gl_state: u8,
    skip: bool,
}

#[derive(Arbitrary, Debug)]
struct Req {
    valblk_always: bool,
    priority: bool,
    any: bool,
    quecvt_upward: bool,
    gfs_flags: u32,
    req_state: u32,
    req_mode: i8,
    has_lvb: bool,
    converting: bool,
    glf_blocking: bool,
    cur: Option<i8>,
    name: (u32, u64),
    blank: bool,
}

#[derive(Arbitrary, Debug)]
enum Case {
    Ast(Ast),
    Put(Put),
    Cancel(u32),
    Req(Req),
    Modes {
        state: u32,
        mode: i32,
        other: i32,
        bast: Option<i32>,
    },
}

fn state(v: u8) -> LmState {
    LmState::ALL[usize::from(v & 3)]
}

fn model_ast(style: AstStyle, a: &AstInput) -> Result<AstOutcome, AstError> {
    let modern = style == AstStyle::Modern;
    if modern && a.dead && a.sb_status != -EUNLOCK {
        return Ok(AstOutcome::Ignored);
    }
    if a.sb_flags & SBF_DEMOTED != 0 {
        return Err(AstError::Demoted); // BUG_ON(sb_flags & DLM_SBF_DEMOTED)
    }
    let lvb_zeroed = a.sb_flags & SBF_VALNOTVALID != 0 && a.has_lvb;
    let st = a.gl_state as u32;
    let fail = |ret: u32| AstOutcome::Complete {
        ret,
        lvb_zeroed,
        lkid: if a.glf_initial == modern { 0 } else { a.lkid },
        glf_initial: a.glf_initial,
    };
    match a.sb_status {
        s if s == -EUNLOCK => Ok(AstOutcome::Free { lvb_zeroed }),
        s if s == -ECANCEL => Ok(fail(if modern {
            OUT_CANCELED
        } else {
            st | OUT_CANCELED
        })),
        s if s == -EAGAIN => Ok(fail(if modern { OUT_TRY_AGAIN } else { st })),
        s if s == -EDEADLK => Ok(fail(if modern { OUT_DEADLOCK } else { st })),
        s if s == -ETIMEDOUT => Ok(fail(if modern { OUT_ERROR } else { st | OUT_ERROR })),
        0 => {
            // Linux 7.2 (Modern) ignores ALTMODE (7.2:L160).
            let ret = if !modern && a.sb_flags & SBF_ALTMODE != 0 {
                match a.gl_req {
                    LmState::Shared => 2,
                    LmState::Deferred => 3,
                    other => return Err(AstError::AltMode(other)), // BUG()
                }
            } else {
                a.gl_req as u32
            };
            Ok(AstOutcome::Complete {
                ret,
                lvb_zeroed,
                lkid: a.lkid,
                glf_initial: !modern,
            })
        }
        s => Err(AstError::UnknownStatus(s)), // default: BUG()
    }
}

fn mode_of(v: i32) -> Option<DlmMode> {
    Some(match v {
        -1 => DlmMode::Iv,
        0 => DlmMode::Nl,
        1 => DlmMode::Cr,
        2 => DlmMode::Cw,
        3 => DlmMode::Pr,
        4 => DlmMode::Pw,
        5 => DlmMode::Ex,
        _ => return None,
    })
}

fn model_flags(p: &FlagPolicy, f: u32, req: DlmMode, ctx: &LockContext) -> Result<u32, FlagsError> {
    let mut lkf = 0u32;
    if p.valblk == ValblkPolicy::Always || ctx.has_lvb {
        lkf |= 0x8;
    }
    if f & 1 != 0 {
        lkf |= 0x1;
    }
    if f & 2 != 0 {
        lkf |= 0x1 | 0x800;
    }
    if p.priority && f & 0x10 != 0 {
        lkf |= 0x2000 | 0x1000;
    }
    if p.any && f & 8 != 0 {
        match req {
            DlmMode::Pr => lkf |= 0x10000,
            DlmMode::Cw => lkf |= 0x8000,
            other => return Err(FlagsError::AnyWithMode(other)), // BUG()
        }
    }
    if ctx.converting {
        lkf |= 0x4;
        let q = match p.quecvt {
            QuecvtPolicy::GlfBlocking => ctx.glf_blocking,
            QuecvtPolicy::UpwardOnly => {
                let cur = ctx.cur.ok_or(FlagsError::MissingCurrentMode)?;
                let (c, r) = (cur as i32, req as i32);
                let down = !(c == 3 && r == 2) && !(c == 2 && r == 3) && r < c;
                !down && f & 3 == 0
            }
        };
        if q {
            lkf |= 0x10;
        }
    }
    Ok(lkf)
}

fn run(case: Case) {
    match case {
        Case::Ast(x) => {
            let style = if x.modern {
                AstStyle::Modern
            } else {
                AstStyle::Reference
            };
            let a = AstInput {
                gl_state: state(x.gl_state),
                gl_req: state(x.gl_req),
                sb_status: x.status.get(),
                sb_flags: x.sb_flags,
                has_lvb: x.has_lvb,
                glf_initial: x.glf_initial,
                lkid: x.lkid,
                dead: x.dead,
            };
            let got = gdlm_ast(style, &a);
            assert_eq!(got, model_ast(style, &a), "{a:?} {style:?}");
            if let Ok(AstOutcome::Complete { ret, .. }) = got {
                // A state in the low two bits, LM_OUT_* above.
                assert_eq!(ret & !0x3f, 0);
            }
            if let Err(e) = got {
                let _ = format!("{e}");
            }
        }
        Case::Put(p) => {
            let inp = PutLockInput {
                lkid: p.lkid,
                has_lvb: p.has_lvb,
                gl_state: state(p.gl_state),
                skip_dlm_unlock: p.skip,
            };
            let want = if p.lkid == 0 {
                PutLock::Free
            } else if p.skip && !(p.has_lvb && inp.gl_state == LmState::Exclusive) {
                PutLock::FreeSkipUnlock
            } else {
                PutLock::Unlock {
                    lkid: p.lkid,
                    flags: DlmLkf::VALBLK,
                }
            };
            let got = put_lock(&inp);
            assert_eq!(got, want);
            assert_eq!(got.updates_request_times(), p.lkid != 0);
        }
        Case::Cancel(lkid) => {
            let want = if lkid == 0 {
                Err(AstError::NoLock)
            } else {
                Ok(CancelRequest {
                    lkid,
                    flags: DlmLkf::CANCEL,
                })
            };
            assert_eq!(cancel(lkid), want);
        }
        Case::Req(r) => {
            let policy = FlagPolicy {
                valblk: if r.valblk_always {
                    ValblkPolicy::Always
                } else {
                    ValblkPolicy::IfLvb
                },
                priority: r.priority,
                any: r.any,
                quecvt: if r.quecvt_upward {
                    QuecvtPolicy::UpwardOnly
                } else {
                    QuecvtPolicy::GlfBlocking
                },
            };
            let ctx = LockContext {
                has_lvb: r.has_lvb,
                converting: r.converting,
                glf_blocking: r.glf_blocking,
                cur: r.cur.and_then(|c| mode_of(i32::from(c))),
            };
            let gfs = LmFlags::from_bits_retain(r.gfs_flags);
            if let Some(mode) = mode_of(i32::from(r.req_mode)) {
                let got = make_flags(&policy, gfs, mode, &ctx).map(|f| f.bits());
                assert_eq!(got, model_flags(&policy, r.gfs_flags, mode, &ctx), "{r:?}");
                if let Some(cur) = ctx.cur {
                    let (c, q) = (cur as i32, mode as i32);
                    let down = !(c == 3 && q == 2) && !(c == 2 && q == 3) && q < c;
                    assert_eq!(is_down_conversion(cur, mode), down);
                }
            }
            let name = LockName::new(r.name.0, r.name.1);
            let style = if r.blank {
                NameStyle::Blank
            } else {
                NameStyle::Reference
            };
            let got = lock_request(&policy, &name, style, r.req_state, gfs, &ctx);
            let mode = match r.req_state {
                0 => DlmMode::Nl,
                1 => DlmMode::Ex,
                2 => DlmMode::Cw,
                3 => DlmMode::Pr,
                s => {
                    assert_eq!(
                        got,
                        Err(FlagsError::Mode(ModeError::UnknownState(s))),
                        "{r:?}"
                    );
                    return;
                }
            };
            match (got, model_flags(&policy, r.gfs_flags, mode, &ctx)) {
                (Ok(req), Ok(lkf)) => {
                    assert_eq!(req.mode, mode);
                    assert_eq!(req.flags.bits(), lkf);
                    if r.converting {
                        assert_eq!(req.name, None);
                        assert_eq!(req.strname(), [0u8; 25]);
                        assert_eq!(req.stamp, RequestStamp::UpdateRequestTimes);
                    } else {
                        assert_eq!(req.name, Some(name.encode_with(style)));
                        assert_eq!(req.stamp, RequestStamp::SetDstamp);
                    }
                }
                (got, want) => assert_eq!(got.map(|q| q.flags.bits()), want, "{r:?}"),
            }
            let cur = state(r.req_state as u8);
            let blocking = is_blocking_request(cur, state(r.gfs_flags as u8), gfs);
            assert_eq!(
                blocking,
                !(cur == LmState::Exclusive
                    || state(r.gfs_flags as u8) == LmState::Unlocked
                    || r.gfs_flags & 3 != 0)
            );
        }
        Case::Modes {
            state: s,
            mode,
            other,
            bast,
        } => {
            let want = match s {
                0 => Ok(DlmMode::Nl),
                1 => Ok(DlmMode::Ex),
                2 => Ok(DlmMode::Cw),
                3 => Ok(DlmMode::Pr),
                s => Err(ModeError::UnknownState(s)),
            };
            assert_eq!(make_mode(s), want);
            assert_eq!(LmState::try_from(s).is_ok(), s < 4);
            let m = DlmMode::try_from(mode);
            assert_eq!(m.ok(), mode_of(mode));
            if m.is_err() {
                assert_eq!(m, Err(ModeError::UnknownMode(mode)));
            }
            if let (Some(a), Some(b)) = (mode_of(mode), mode_of(other)) {
                assert_eq!(a.compatible(b), b.compatible(a));
                assert_eq!(a.raw(), mode);
                if let Some(st) = a.to_state() {
                    assert_eq!(st.to_dlm(), a);
                }
            }
            let bm = bast.map_or(BastMode::Unknown, BastMode::Mode);
            let want = match bast {
                None | Some(5) => Ok(LmState::Unlocked),
                Some(2) => Ok(LmState::Deferred),
                Some(3) => Ok(LmState::Shared),
                Some(m) => Err(ModeError::UnknownBastMode(m)), // BUG()
            };
            assert_eq!(bast_state(bm), want);
        }
    }
}

fuzz_target!(|cases: Vec<Case>| {
    for c in cases {
        run(c);
    }
});
