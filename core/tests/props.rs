//! Property tests: every public decision of gdlm-core against small independent
//! models written from the reference (`shared/reference/lock_dlm.c`, v3.10–v3.16,
//! with the lines NOTES.md fills in) and from the kernel helpers it calls
//! (`lib/parser.c`, `lib/vsprintf.c`). The golden vectors (`tests/vectors.rs`)
//! pin exact cases; these tests sweep the input space and sequences.
//!
//! The models deliberately use raw kernel numbers (not `gdlm_core::consts`) so a
//! wrong constant in the crate shows up here too.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use gdlm_core::ast::{
    cancel, gdlm_ast, put_lock, AstError, AstInput, AstOutcome, AstStyle, CancelRequest, PutLock,
    PutLockInput,
};
use gdlm_core::flags::{
    lock_request, make_flags, DlmLkf, FlagPolicy, FlagsError, LmFlags, LockContext, QuecvtPolicy,
    RequestStamp, ValblkPolicy,
};
use gdlm_core::lvb::{control_lvb_read, control_lvb_write, ControlLvb, JidSet, LvbError};
use gdlm_core::mode::{DlmMode, LmState, ModeError};
use gdlm_core::mount::{
    ControlMount, FirstDone, FirstDoneStep, LockTable, MountError, MountOptions, MountStep,
    TableError,
};
use gdlm_core::name::{LockName, NameError, NameStyle};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlUpdate, ControlWork, LockId, RecoverFlags, Recovery,
    RecoveryError, ResultIgnored, ResultOutcome, SizePolicy, SlotRecorded, SyncLock,
};
use gdlm_core::stats::{LkStats, StatPair};

type TR = Result<(), TestCaseError>;

thread_local! {
    /// Outcomes reached on this thread (see `generators_reach_every_outcome`).
    static HITS: std::cell::RefCell<std::collections::BTreeMap<&'static str, usize>> =
        Default::default();
}

fn hit(k: &'static str) {
    HITS.with(|h| *h.borrow_mut().entry(k).or_default() += 1);
}

// Kernel numbers, written out independently of gdlm_core::consts.
const K_EAGAIN: i32 = -11;
const K_EDEADLK: i32 = -35;
const K_ETIMEDOUT: i32 = -110;
const K_EINTR: i32 = -4;
const K_EINVAL: i32 = -22;
const K_ECANCEL: i32 = -0x10001;
const K_EUNLOCK: i32 = -0x10002;
const LKF_NOQUEUE: u32 = 0x1;
const LKF_CANCEL: u32 = 0x2;
const LKF_CONVERT: u32 = 0x4;
const LKF_VALBLK: u32 = 0x8;
const LKF_QUECVT: u32 = 0x10;
const LKF_NOQUEUEBAST: u32 = 0x800;
const LKF_HEADQUE: u32 = 0x1000;
const LKF_NOORDER: u32 = 0x2000;
const LKF_ALTPR: u32 = 0x8000;
const LKF_ALTCW: u32 = 0x10000;
const LM_TRY: u32 = 0x1;
const LM_TRY_1CB: u32 = 0x2;
const LM_ANY: u32 = 0x8;
const LM_PRIORITY: u32 = 0x10;
const RD_GAVEUP: u32 = 308;
const RD_SUCCESS: u32 = 309;

// ---- shared strategies -------------------------------------------------------------

fn arb_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        1..16u32,
        (0..32u32).prop_map(|s| 1u32 << s),
        Just(u32::MAX),
        any::<u32>(),
    ]
}

fn arb_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        1..16u64,
        (0..64u32).prop_map(|s| 1u64 << s),
        Just(u64::MAX),
        any::<u32>().prop_map(u64::from),
        any::<u64>(),
    ]
}

fn arb_style() -> impl Strategy<Value = NameStyle> {
    prop_oneof![Just(NameStyle::Reference), Just(NameStyle::Blank)]
}

fn arb_mode() -> impl Strategy<Value = DlmMode> {
    prop::sample::select(vec![
        DlmMode::Iv,
        DlmMode::Nl,
        DlmMode::Cr,
        DlmMode::Cw,
        DlmMode::Pr,
        DlmMode::Pw,
        DlmMode::Ex,
    ])
}

fn arb_state() -> impl Strategy<Value = LmState> {
    prop::sample::select(LmState::ALL.to_vec())
}

fn state_num(s: LmState) -> u32 {
    match s {
        LmState::Unlocked => 0,
        LmState::Exclusive => 1,
        LmState::Deferred => 2,
        LmState::Shared => 3,
    }
}

fn mode_num(m: DlmMode) -> i32 {
    match m {
        DlmMode::Iv => -1,
        DlmMode::Nl => 0,
        DlmMode::Cr => 1,
        DlmMode::Cw => 2,
        DlmMode::Pr => 3,
        DlmMode::Pw => 4,
        DlmMode::Ex => 5,
    }
}

/// Bit `j` of the LVB jid bitmap, the naive way (`test_bit_le`).
fn bit(raw: &[u8; 32], j: usize) -> bool {
    (raw[8 + j / 8] >> (j % 8)) & 1 == 1
}

fn set_bit(raw: &mut [u8; 32], j: usize, v: bool) {
    if v {
        raw[8 + j / 8] |= 1 << (j % 8);
    } else {
        raw[8 + j / 8] &= !(1 << (j % 8));
    }
}

fn naive_jids(raw: &[u8; 32], below: usize) -> Vec<u32> {
    (0..192.min(below))
        .filter(|&j| bit(raw, j))
        .map(|j| j as u32)
        .collect()
}

fn gen_of(raw: &[u8; 32]) -> u32 {
    u32::from(raw[0]) | u32::from(raw[1]) << 8 | u32::from(raw[2]) << 16 | u32::from(raw[3]) << 24
}

// ---- 1. names ----------------------------------------------------------------------

/// `gdlm_lock`'s name: `%8x%16x` (reference) or with zero fields blank (Linux ≤ 3.9).
fn model_name(t: u32, n: u64, style: NameStyle) -> String {
    let blank = style == NameStyle::Blank;
    let a = if blank && t == 0 {
        " ".repeat(8)
    } else {
        format!("{t:8x}")
    };
    let b = if blank && n == 0 {
        " ".repeat(16)
    } else {
        format!("{n:16x}")
    };
    a + &b
}

/// The names the kernel can write: decode iff some (t, n) encodes to exactly these bytes.
fn model_decode(bytes: &[u8], style: NameStyle) -> Option<(u32, u64)> {
    let body = match bytes.len() {
        24 => bytes,
        25 if bytes[24] == 0 => &bytes[..24],
        _ => return None,
    };
    let field = |f: &[u8]| -> Option<u64> {
        let s = std::str::from_utf8(f).ok()?;
        let d = s.trim_start_matches(' ');
        if d.is_empty() {
            return Some(0);
        }
        if !d.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        u64::from_str_radix(d, 16).ok()
    };
    let t = u32::try_from(field(&body[..8])?).ok()?;
    let n = field(&body[8..])?;
    (model_name(t, n, style).as_bytes() == body).then_some((t, n))
}

fn name_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => Just(b' '),
        4 => prop::sample::select(b"0123456789abcdef".to_vec()),
        1 => Just(b'0'),
        1 => prop::sample::select(b"ABCDEFgx+-\0\xff".to_vec()),
        1 => any::<u8>(),
    ]
}

/// Arbitrary bytes, 24/25-byte candidates, and valid names with one byte changed.
fn name_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(name_byte(), 0..40),
        vec(name_byte(), 24),
        (vec(name_byte(), 24), any::<bool>()).prop_map(|(mut v, nul)| {
            v.push(if nul { 0 } else { b'1' });
            v
        }),
        (
            arb_u32(),
            arb_u64(),
            arb_style(),
            0..25usize,
            name_byte(),
            any::<bool>()
        )
            .prop_map(|(t, n, st, pos, b, nul)| {
                let mut v = model_name(t, n, st).into_bytes();
                if nul {
                    v.push(0);
                }
                if pos < v.len() {
                    v[pos] = b;
                }
                v
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn name_encode_matches_printf_and_round_trips(t in arb_u32(), n in arb_u64(), style in arb_style()) {
        let name = LockName::new(t, n);
        let enc = name.encode_with(style);
        let want = model_name(t, n, style);
        prop_assert_eq!(enc.as_str(), want.as_str());
        if style == NameStyle::Reference {
            prop_assert_eq!(enc.as_str(), format!("{t:8x}{n:16x}"));
            prop_assert_eq!(name.encode(), enc);
        }
        let b = enc.as_bytes();
        prop_assert_eq!(b.len(), 24);
        prop_assert!(b.iter().all(|&c| c == b' ' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        // Right-aligned in each field: no space after a digit.
        for f in [&b[..8], &b[8..]] {
            let first_digit = f.iter().position(|&c| c != b' ').unwrap_or(f.len());
            prop_assert!(f[first_digit..].iter().all(|&c| c != b' '));
        }
        prop_assert_eq!(LockName::decode_with(b, style), Ok(name));
        prop_assert_eq!(LockName::decode_with(&enc.to_strname(), style), Ok(name));
        prop_assert_eq!(enc.to_strname()[24], 0);
    }

    #[test]
    fn name_decode_accepts_exactly_kernel_names(bytes in name_bytes(), style in arb_style()) {
        let got = LockName::decode_with(&bytes, style);
        let want = model_decode(&bytes, style);
        prop_assert_eq!(got.map(|n| (n.ln_type, n.ln_number)).ok(), want, "{:?} -> {:?}", bytes, got);
        match got {
            Ok(n) => {
                let enc = n.encode_with(style);
                prop_assert_eq!(&enc.as_bytes()[..], &bytes[..24]);
            }
            Err(NameError::WrongLength { len }) => {
                prop_assert_eq!(len, bytes.len());
                prop_assert!(!(len == 24 || (len == 25 && bytes[24] == 0)));
            }
            Err(_) => prop_assert!(bytes.len() == 24 || (bytes.len() == 25 && bytes[24] == 0)),
        }
        if style == NameStyle::Reference {
            prop_assert_eq!(LockName::decode(&bytes), got);
        }
    }
}

// ---- 1b. the control LVB -----------------------------------------------------------

fn arb_jid() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0..192u32, 1 => 185..200u32, 1 => any::<u32>(), 1 => Just(u32::MAX)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn lvb_from_bytes_ok_iff_32(bytes in prop_oneof![vec(any::<u8>(), 0..64), vec(any::<u8>(), 31..34)]) {
        match ControlLvb::from_bytes(&bytes) {
            Ok(l) => {
                prop_assert_eq!(bytes.len(), 32);
                prop_assert_eq!(&l.as_bytes()[..], &bytes[..]);
                prop_assert_eq!(ControlLvb::try_from(&l.as_bytes()[..]), Ok(l));
            }
            Err(e) => {
                prop_assert_ne!(bytes.len(), 32);
                prop_assert_eq!(e, LvbError::WrongLength { len: bytes.len() });
            }
        }
    }

    #[test]
    fn lvb_accessors_match_naive_bits(raw in any::<[u8; 32]>(), zero_bitmap in any::<bool>(),
                                      gen in arb_u32(), limit in prop_oneof![0..200u32, any::<u32>()],
                                      probe in arb_jid()) {
        let mut raw = raw;
        if zero_bitmap {
            raw[8..].fill(0);
        }
        let l = ControlLvb::from_array(raw);
        prop_assert_eq!(l.generation(), gen_of(&raw));
        prop_assert_eq!(l.is_disabled(), gen_of(&raw) == 0xFFFF_FFFF);
        prop_assert_eq!(control_lvb_read(&l), (gen_of(&raw), l));

        let w = control_lvb_write(gen, &l);
        prop_assert_eq!(&w.as_bytes()[4..], &raw[4..]);
        prop_assert_eq!(&w.as_bytes()[..4], &gen.to_le_bytes()[..]);
        prop_assert_eq!(w.generation(), gen);

        let all: Vec<u32> = l.jids().iter().collect();
        prop_assert_eq!(&all, &naive_jids(&raw, 192));
        prop_assert_eq!(l.jids().len(), all.len());
        prop_assert_eq!(l.jids().is_empty(), all.is_empty());
        let js = l.jids();
        prop_assert_eq!(&js.as_bytes()[..], &raw[8..]);
        let below: Vec<u32> = l.jids_below(limit).iter().collect();
        let want: Vec<u32> = all.iter().copied().filter(|&j| j < limit).collect();
        prop_assert_eq!(l.any_jid_below(limit), !want.is_empty());
        prop_assert_eq!(below, want);
        prop_assert_eq!(l.all_jid_bits_clear(), raw[8..].iter().all(|&b| b == 0));
        for j in 0..192u32 {
            prop_assert_eq!(l.jid(j), Ok(bit(&raw, j as usize)));
            prop_assert_eq!(l.jids().contains(j), bit(&raw, j as usize));
        }
        if probe >= 192 {
            prop_assert_eq!(l.jid(probe), Err(LvbError::JidOutOfRange { jid: probe }));
            prop_assert!(!l.jids().contains(probe));
        }
    }

    #[test]
    fn lvb_set_jid_matches_naive(raw in any::<[u8; 32]>(), ops in vec((arb_jid(), any::<bool>()), 0..24)) {
        let mut l = ControlLvb::from_array(raw);
        let mut model = raw;
        let mut set = JidSet::new();
        let mut set_model = [0u8; 32];
        for (j, v) in ops {
            let before = l;
            let r = l.set_jid(j, v);
            let ri = set.insert(j);
            if j < 192 {
                prop_assert_eq!(r, Ok(()));
                prop_assert_eq!(ri, Ok(()));
                set_bit(&mut model, j as usize, v);
                set_bit(&mut set_model, j as usize, true);
                prop_assert_eq!(l.jid(j), Ok(v));
            } else {
                prop_assert_eq!(r, Err(LvbError::JidOutOfRange { jid: j }));
                prop_assert_eq!(ri, Err(LvbError::JidOutOfRange { jid: j }));
                prop_assert_eq!(l, before);
            }
            prop_assert_eq!(l.as_bytes(), &model);
            prop_assert_eq!(&set.as_bytes()[..], &set_model[8..]);
        }
    }
}

// ---- 2. make_flags / lock_request --------------------------------------------------

fn arb_policy() -> impl Strategy<Value = FlagPolicy> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(v, p, q, a)| {
        FlagPolicy {
            valblk: if v {
                ValblkPolicy::Always
            } else {
                ValblkPolicy::IfLvb
            },
            priority: p,
            any: a,
            quecvt: if q {
                QuecvtPolicy::GlfBlocking
            } else {
                QuecvtPolicy::UpwardOnly
            },
        }
    })
}

fn arb_ctx() -> impl Strategy<Value = LockContext> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(arb_mode()),
    )
        .prop_map(|(has_lvb, converting, glf_blocking, cur)| LockContext {
            has_lvb,
            converting,
            glf_blocking,
            cur,
        })
}

fn arb_lm_flags() -> impl Strategy<Value = u32> {
    prop_oneof![0..0x20u32, 0..0x800u32, any::<u32>()]
}

/// Modern kernels' `down_conversion`: lower mode, except PR ⇄ CW.
fn model_down(cur: DlmMode, req: DlmMode) -> bool {
    let (c, r) = (mode_num(cur), mode_num(req));
    let middle = (c == 3 && r == 2) || (c == 2 && r == 3);
    !middle && r < c
}

/// `make_flags` of the reference (fields of the policy select Linux 3.6 / modern).
fn model_flags(p: &FlagPolicy, f: u32, req: DlmMode, ctx: &LockContext) -> Result<u32, FlagsError> {
    let mut lkf = 0;
    if ctx.has_lvb || p.valblk == ValblkPolicy::Always {
        lkf |= LKF_VALBLK;
    }
    if f & LM_TRY != 0 {
        lkf |= LKF_NOQUEUE;
    }
    if f & LM_TRY_1CB != 0 {
        lkf |= LKF_NOQUEUE | LKF_NOQUEUEBAST;
    }
    if p.priority && f & LM_PRIORITY != 0 {
        lkf |= LKF_NOORDER | LKF_HEADQUE;
    }
    if p.any && f & LM_ANY != 0 {
        match mode_num(req) {
            3 => lkf |= LKF_ALTCW,
            2 => lkf |= LKF_ALTPR,
            _ => return Err(FlagsError::AnyWithMode(req)),
        }
    }
    if ctx.converting {
        lkf |= LKF_CONVERT;
        let q = match p.quecvt {
            QuecvtPolicy::GlfBlocking => ctx.glf_blocking,
            QuecvtPolicy::UpwardOnly => {
                let Some(cur) = ctx.cur else {
                    return Err(FlagsError::MissingCurrentMode);
                };
                !model_down(cur, req) && f & (LM_TRY | LM_TRY_1CB) == 0
            }
        };
        if q {
            lkf |= LKF_QUECVT;
        }
    }
    Ok(lkf)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn make_flags_matches_model(p in arb_policy(), f in arb_lm_flags(), req in arb_mode(), ctx in arb_ctx()) {
        let gf = LmFlags::from_bits_retain(f);
        for pol in [p, FlagPolicy::REFERENCE, FlagPolicy::LINUX_3_6, FlagPolicy::MODERN, FlagPolicy::LINUX_7_2] {
            let got = make_flags(&pol, gf, req, &ctx);
            prop_assert_eq!(got.map(|l| l.bits()), model_flags(&pol, f, req, &ctx));
            let any = pol.any && f & LM_ANY != 0;
            match got {
                Err(FlagsError::MissingCurrentMode) => {
                    prop_assert!(pol.quecvt == QuecvtPolicy::UpwardOnly && ctx.converting && ctx.cur.is_none());
                }
                Err(e) => {
                    prop_assert!(any && req != DlmMode::Pr && req != DlmMode::Cw);
                    prop_assert_eq!(e, FlagsError::AnyWithMode(req));
                }
                Ok(l) => {
                    prop_assert_eq!(l.contains(DlmLkf::CONVERT), ctx.converting);
                    prop_assert!(!l.contains(DlmLkf::QUECVT) || l.contains(DlmLkf::CONVERT));
                    prop_assert_eq!(l.contains(DlmLkf::ALTCW), any && req == DlmMode::Pr);
                    prop_assert_eq!(l.contains(DlmLkf::ALTPR), any && req == DlmMode::Cw);
                    prop_assert!(!l.intersects(DlmLkf::CANCEL | DlmLkf::FORCEUNLOCK | DlmLkf::TIMEOUT
                        | DlmLkf::IVVALBLK | DlmLkf::CONVDEADLK | DlmLkf::PERSISTENT | DlmLkf::ORPHAN
                        | DlmLkf::EXPEDITE | DlmLkf::NODLCKWT | DlmLkf::NODLCKBLK));
                    if pol == FlagPolicy::MODERN {
                        prop_assert!(!l.intersects(DlmLkf::NOORDER | DlmLkf::HEADQUE));
                        let cur = ctx.cur.unwrap_or(DlmMode::Nl);
                        prop_assert!(!(l.contains(DlmLkf::QUECVT) && model_down(cur, req)));
                    }
                }
            }
        }
    }

    #[test]
    fn lock_request_matches_model(p in arb_policy(), t in arb_u32(), n in arb_u64(), style in arb_style(),
                                  req_state in prop_oneof![0..6u32, any::<u32>()],
                                  f in arb_lm_flags(), ctx in arb_ctx()) {
        let name = LockName::new(t, n);
        let got = lock_request(&p, &name, style, req_state, LmFlags::from_bits_retain(f), &ctx);
        let mode = match req_state {
            0 => DlmMode::Nl,
            1 => DlmMode::Ex,
            2 => DlmMode::Cw,
            3 => DlmMode::Pr,
            s => {
                prop_assert_eq!(got, Err(FlagsError::Mode(ModeError::UnknownState(s))));
                return Ok(());
            }
        };
        match (got, model_flags(&p, f, mode, &ctx)) {
            (Err(e), Err(w)) => prop_assert_eq!(e, w),
            (Ok(r), Ok(w)) => {
                prop_assert_eq!(r.mode, mode);
                prop_assert_eq!(r.flags.bits(), w);
                let mut strname = [0u8; 25];
                if ctx.converting {
                    prop_assert_eq!(r.name, None);
                    prop_assert_eq!(r.stamp, RequestStamp::UpdateRequestTimes);
                } else {
                    let want = model_name(t, n, style);
                    prop_assert_eq!(r.name.map(|x| x.as_str().to_owned()), Some(want.clone()));
                    prop_assert_eq!(r.stamp, RequestStamp::SetDstamp);
                    strname[..24].copy_from_slice(want.as_bytes());
                }
                prop_assert_eq!(r.strname(), strname);
            }
            (g, w) => prop_assert!(false, "lock_request {:?} but model {:?}", g, w),
        }
    }
}

// ---- 3. ASTs, put_lock, cancel -----------------------------------------------------

fn arb_status() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0),
        Just(K_EUNLOCK),
        Just(K_ECANCEL),
        Just(K_EAGAIN),
        Just(K_EDEADLK),
        Just(K_ETIMEDOUT),
        -120..5i32,
        any::<i32>(),
    ]
}

fn arb_ast() -> impl Strategy<Value = AstInput> {
    (
        arb_state(),
        arb_state(),
        arb_status(),
        prop_oneof![0..8u8, any::<u8>()],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0u32), any::<u32>()],
        any::<bool>(),
    )
        .prop_map(
            |(gl_state, gl_req, sb_status, sb_flags, has_lvb, glf_initial, lkid, dead)| AstInput {
                gl_state,
                gl_req,
                sb_status,
                sb_flags,
                has_lvb,
                glf_initial,
                lkid,
                dead,
            },
        )
}

/// `gdlm_ast` of the reference and of modern kernels.
fn model_ast(style: AstStyle, a: &AstInput) -> Result<AstOutcome, AstError> {
    let modern = style == AstStyle::Modern;
    if modern && a.dead && a.sb_status != K_EUNLOCK {
        return Ok(AstOutcome::Ignored);
    }
    if a.sb_flags & 0x01 != 0 {
        return Err(AstError::Demoted); // BUG_ON(DLM_SBF_DEMOTED)
    }
    let lvb_zeroed = a.sb_flags & 0x02 != 0 && a.has_lvb;
    let st = state_num(a.gl_state);
    let ret = match a.sb_status {
        K_EUNLOCK => return Ok(AstOutcome::Free { lvb_zeroed }),
        K_ECANCEL => Some(if modern { 0x08 } else { st | 0x08 }),
        K_EAGAIN => Some(if modern { 0x20 } else { st }),
        K_EDEADLK => Some(if modern { 0x10 } else { st }),
        K_ETIMEDOUT => Some(if modern { 0x04 } else { st | 0x04 }),
        0 => None,
        s => return Err(AstError::UnknownStatus(s)), // default: BUG()
    };
    if let Some(ret) = ret {
        // out: reference drops the lkid when GLF_INITIAL is clear, modern when set.
        let drop = a.glf_initial == modern;
        return Ok(AstOutcome::Complete {
            ret,
            lvb_zeroed,
            lkid: if drop { 0 } else { a.lkid },
            glf_initial: a.glf_initial,
        });
    }
    let mut ret = state_num(a.gl_req);
    // Linux 7.2 (Modern) has no ALTMODE case (7.2:L160).
    if !modern && a.sb_flags & 0x04 != 0 {
        ret = match a.gl_req {
            LmState::Shared => 2,
            LmState::Deferred => 3,
            other => return Err(AstError::AltMode(other)),
        };
    }
    Ok(AstOutcome::Complete {
        ret,
        lvb_zeroed,
        lkid: a.lkid,
        glf_initial: !modern,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn gdlm_ast_matches_model(a in arb_ast()) {
        for style in [AstStyle::Reference, AstStyle::Modern] {
            let got = gdlm_ast(style, &a);
            prop_assert_eq!(got, model_ast(style, &a), "{:?}", style);
            let ignored = style == AstStyle::Modern && a.dead && a.sb_status != K_EUNLOCK;
            let known = [0, K_EUNLOCK, K_ECANCEL, K_EAGAIN, K_EDEADLK, K_ETIMEDOUT].contains(&a.sb_status);
            let bug = !ignored
                && (a.sb_flags & 1 != 0
                    || !known
                    || (style == AstStyle::Reference && a.sb_status == 0 && a.sb_flags & 4 != 0
                        && !matches!(a.gl_req, LmState::Shared | LmState::Deferred)));
            prop_assert_eq!(got.is_err(), bug);
            if style == AstStyle::Reference && !bug && a.sb_status != 0 && a.sb_status != K_EUNLOCK {
                match got {
                    Ok(AstOutcome::Complete { ret, .. }) => prop_assert_eq!(ret & 3, state_num(a.gl_state)),
                    other => prop_assert!(false, "failure gave {:?}", other),
                }
            }
        }
    }

    #[test]
    fn put_lock_and_cancel_match_model(lkid in prop_oneof![Just(0u32), any::<u32>()], has_lvb in any::<bool>(),
                                       gl_state in arb_state(), skip in any::<bool>()) {
        let p = PutLockInput { lkid, has_lvb, gl_state, skip_dlm_unlock: skip };
        let want = if lkid == 0 {
            PutLock::Free
        } else if skip && !(has_lvb && gl_state == LmState::Exclusive) {
            PutLock::FreeSkipUnlock
        } else {
            PutLock::Unlock { lkid, flags: DlmLkf::from_bits_retain(LKF_VALBLK) }
        };
        let got = put_lock(&p);
        prop_assert_eq!(got, want);
        prop_assert_eq!(got.updates_request_times(), lkid != 0);
        let c = cancel(lkid);
        if lkid == 0 {
            prop_assert_eq!(c, Err(AstError::NoLock));
        } else {
            prop_assert_eq!(c, Ok(CancelRequest { lkid, flags: DlmLkf::from_bits_retain(LKF_CANCEL) }));
        }
    }
}

// ---- 4. stats ----------------------------------------------------------------------

/// Reduce mod 2^64 into i64 (two's complement wrap).
fn wrap(x: i128) -> i64 {
    let m = x.rem_euclid(1i128 << 64);
    if m >= 1i128 << 63 {
        (m - (1i128 << 64)) as i64
    } else {
        m as i64
    }
}

/// `gfs2_update_stats` over unbounded integers: arithmetic shift is floor division.
fn model_update(s: &mut [i64; 8], index: usize, sample: i64) {
    let delta = wrap(i128::from(sample) - i128::from(s[index]));
    s[index] = wrap(i128::from(s[index]) + i128::from(delta).div_euclid(8));
    let abs = wrap(i128::from(delta).abs()); // abs64(S64_MIN) == S64_MIN
    let v = i128::from(s[index + 1]);
    let d = i128::from(wrap(i128::from(abs) - v));
    s[index + 1] = wrap(v + d.div_euclid(4));
}

fn arb_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -1000..1000i64,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(-1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn stats_update_matches_i128_model(init in prop::array::uniform8(arb_i64()),
                                       samples in vec((0..3usize, arb_i64()), 1..16)) {
        let mut s = LkStats { stats: init };
        let mut m = init;
        for (k, sample) in samples {
            let pair = [StatPair::Srtt, StatPair::SrttB, StatPair::Sirt][k];
            prop_assert_eq!(StatPair::from_index(k * 2), Some(pair));
            s.update(pair, sample);
            model_update(&mut m, k * 2, sample);
            prop_assert_eq!(s.stats, m);
            prop_assert_eq!(s.mean(pair), m[k * 2]);
            prop_assert_eq!(s.var(pair), m[k * 2 + 1]);
        }
    }
}

// ---- 5. recovery sequences ---------------------------------------------------------

#[derive(Clone, Debug)]
enum GenSpec {
    Delta(u32),
    Any(u32),
}

impl GenSpec {
    fn resolve(&self, start: u32) -> u32 {
        match *self {
            GenSpec::Delta(d) => start.wrapping_add(d),
            GenSpec::Any(g) => g,
        }
    }
}

#[derive(Clone, Debug)]
enum LvbSpec {
    /// What the cluster's control_lock holds (the last LVB written).
    Cluster,
    /// Another node wrote generation `start + delta` with these jid bits.
    AtStart { delta: i32, jids: Vec<u32> },
    /// Anything.
    Raw([u8; 32]),
}

fn resolve_lvb(spec: &LvbSpec, start: u32, cluster: &ControlLvb) -> ControlLvb {
    match spec {
        LvbSpec::Cluster => *cluster,
        LvbSpec::AtStart { delta, jids } => {
            let mut raw = [0u8; 32];
            raw[..4].copy_from_slice(&start.wrapping_add_signed(*delta).to_le_bytes());
            for &j in jids {
                set_bit(&mut raw, j as usize, true);
            }
            ControlLvb::from_array(raw)
        }
        LvbSpec::Raw(r) => ControlLvb::from_array(*r),
    }
}

#[derive(Clone, Debug)]
enum Simple {
    Prep,
    Slot(i32),
    Done {
        slots: Vec<i32>,
        our: i32,
        gen: GenSpec,
    },
    Result {
        jid: u32,
        result: u32,
    },
}

#[derive(Clone, Debug)]
enum Ev {
    S(Simple),
    /// control_begin → [mid1] → control_locked(lvb) → [mid2] → control_converted.
    Control {
        lvb: LvbSpec,
        mid1: Option<Simple>,
        mid2: Option<Simple>,
    },
    Unmount,
    Release,
    Mount {
        first: bool,
        lvb: LvbSpec,
    },
    FirstDone {
        pr: i32,
        nl: i32,
    },
}

#[derive(Clone, Debug)]
struct Init {
    fresh: bool,
    flags: u32,
    mount: u32,
    start: u32,
    block: u32,
    size16: usize,
    submit: Vec<u32>,
    result: Vec<u32>,
    jid: i32,
    lvb: [u8; 32],
}

fn arb_slot() -> impl Strategy<Value = i32> {
    prop_oneof![
        10 => 1..=16i32,
        3 => 17..=200i32,
        1 => Just(0),
        1 => -3..0i32,
        1 => Just(i32::MIN),
        1 => Just(i32::MAX),
        1 => any::<i32>(),
    ]
}

fn arb_gen() -> impl Strategy<Value = GenSpec> {
    prop_oneof![4 => (0..4u32).prop_map(GenSpec::Delta), 1 => any::<u32>().prop_map(GenSpec::Any)]
}

fn arb_result_code() -> impl Strategy<Value = u32> {
    prop_oneof![4 => Just(RD_SUCCESS), 2 => Just(RD_GAVEUP), 1 => Just(0u32), 1 => Just(1u32), 1 => any::<u32>()]
}

fn arb_simple() -> impl Strategy<Value = Simple> {
    prop_oneof![
        3 => Just(Simple::Prep),
        3 => arb_slot().prop_map(Simple::Slot),
        3 => (vec(arb_slot(), 0..6), arb_slot(), arb_gen())
            .prop_map(|(slots, our, gen)| Simple::Done { slots, our, gen }),
        3 => (prop_oneof![4 => 0..24u32, 1 => 0..200u32, 1 => any::<u32>(), 1 => Just(u32::MAX)],
              arb_result_code())
            .prop_map(|(jid, result)| Simple::Result { jid, result }),
    ]
}

fn arb_lvb_spec() -> impl Strategy<Value = LvbSpec> {
    prop_oneof![
        4 => Just(LvbSpec::Cluster),
        3 => (-1..=1i32, prop_oneof![2 => Just(vec![]), 1 => vec(prop_oneof![0..20u32, 0..192u32], 0..3)])
            .prop_map(|(delta, jids)| LvbSpec::AtStart { delta, jids }),
        1 => any::<[u8; 32]>().prop_map(LvbSpec::Raw),
    ]
}

fn arb_ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        12 => arb_simple().prop_map(Ev::S),
        8 => (arb_lvb_spec(),
              prop_oneof![3 => Just(None), 1 => arb_simple().prop_map(Some)],
              prop_oneof![3 => Just(None), 1 => arb_simple().prop_map(Some)])
            .prop_map(|(lvb, mid1, mid2)| Ev::Control { lvb, mid1, mid2 }),
        1 => Just(Ev::Unmount),
        1 => Just(Ev::Release),
        2 => (any::<bool>(), arb_lvb_spec()).prop_map(|(first, lvb)| Ev::Mount { first, lvb }),
        1 => (prop_oneof![Just(0), -40..0i32], prop_oneof![Just(0), -40..0i32])
            .prop_map(|(pr, nl)| Ev::FirstDone { pr, nl }),
    ]
}

fn arb_init() -> impl Strategy<Value = Init> {
    let small_gen = || prop_oneof![0..8u32, any::<u32>()];
    let entry = || prop_oneof![4 => Just(0u32), 2 => 0..8u32, 1 => Just(RD_SUCCESS), 1 => Just(RD_GAVEUP), 1 => any::<u32>()];
    (
        any::<bool>(),
        prop_oneof![Just(1u32 << 4), Just(1 | 1 << 4), 0..0x80u32],
        small_gen(),
        small_gen(),
        small_gen(),
        0..13usize,
        vec(entry(), 192),
        vec(entry(), 192),
        prop_oneof![-1..20i32, any::<i32>()],
        any::<[u8; 32]>(),
    )
        .prop_map(
            |(fresh, flags, mount, start, block, size16, submit, result, jid, lvb)| Init {
                fresh,
                flags,
                mount,
                start,
                block,
                size16,
                submit,
                result,
                jid,
                lvb,
            },
        )
}

struct RModel {
    /// Exactly what `locks_blocked()` must say.
    blocked: bool,
    /// `recover_start`: changes only through an accepted recover_done.
    start: u32,
    /// What the cluster's control_lock LVB holds.
    cluster: ControlLvb,
    /// True from a recover_prep on a mounted state until a control step returns
    /// Unblocked or a mount finishes (the brief's formulation, implied by `blocked`).
    must_block: bool,
    /// The generated start state passed `check()`: then every later state must too
    /// (an arbitrary start state may violate its rules, e.g. DLM_RECOVERY with
    /// block != start).
    consistent: bool,
}

fn mounted_not_first(f: RecoverFlags) -> bool {
    f.contains(RecoverFlags::MOUNT_DONE) && !f.contains(RecoverFlags::FIRST_MOUNT)
}

/// `set_recover_size`'s growth, clamped to the capacity.
fn model_size(policy: SizePolicy, old: u32, slots: &[i32], cap: usize) -> u32 {
    let max_jid = slots
        .iter()
        .map(|&s| i64::from(s) - 1)
        .fold(0i64, |a, b| if a < b { b } else { a });
    let need = max_jid + 1;
    if i64::from(old) >= need {
        return old;
    }
    let new = match policy {
        SizePolicy::Reference => i64::from(old) + 16,
        SizePolicy::Fit => {
            let mut s = i64::from(old);
            while s < need {
                s += 16;
            }
            s
        }
    };
    new.min(cap as i64) as u32
}

fn invariants<const N: usize>(rec: &Recovery<N>, m: &RModel) -> TR {
    if m.consistent {
        prop_assert_eq!(rec.check(), Ok(()));
    }
    prop_assert!(rec.recover_size() as usize <= N);
    prop_assert_eq!(rec.submit().len(), rec.recover_size() as usize);
    prop_assert_eq!(rec.result().len(), rec.recover_size() as usize);
    prop_assert_eq!(
        rec.recover_start(),
        m.start,
        "recover_start changed outside recover_done"
    );
    prop_assert_eq!(rec.locks_blocked(), m.blocked);
    prop_assert!(rec.locks_blocked() || !m.must_block);
    prop_assert_eq!(rec.capacity(), N);
    Ok(())
}

fn apply_simple<const N: usize>(rec: &mut Recovery<N>, m: &mut RModel, s: &Simple) -> TR {
    let b = rec.clone();
    let size = b.recover_size();
    match s {
        Simple::Prep => {
            rec.recover_prep();
            prop_assert_eq!(rec.recover_block(), b.recover_start());
            prop_assert!(rec.dlm_recovery_in_progress());
            let mut f = b.flags() | RecoverFlags::DLM_RECOVERY;
            if mounted_not_first(b.flags()) {
                f |= RecoverFlags::BLOCK_LOCKS;
                m.blocked = true;
                m.must_block = true;
            }
            prop_assert_eq!(rec.flags(), f);
            prop_assert_eq!(rec.submit(), b.submit());
            prop_assert_eq!(rec.result(), b.result());
        }
        &Simple::Slot(slot) => {
            let want = if slot <= 0 {
                Err(RecoveryError::InvalidSlot(slot))
            } else if (slot - 1) as usize >= N {
                Err(RecoveryError::SlotBeyondCapacity { slot, capacity: N })
            } else if (slot - 1) as u32 >= size {
                Err(RecoveryError::ShortSize {
                    jid: (slot - 1) as u32,
                    size,
                })
            } else {
                let j = (slot - 1) as usize;
                let prev = b.submit()[j];
                Ok(SlotRecorded {
                    jid: j as u32,
                    generation: b.recover_block(),
                    prev: (prev != 0).then_some(prev),
                })
            };
            let got = rec.recover_slot(slot);
            hit(if got.is_ok() { "slot:ok" } else { "slot:err" });
            prop_assert_eq!(got, want);
            match got {
                Err(_) => prop_assert_eq!(&*rec, &b, "refused recover_slot changed the state"),
                Ok(r) => {
                    let mut sub = b.submit().to_vec();
                    sub[r.jid as usize] = b.recover_block();
                    prop_assert_eq!(rec.submit(), &sub[..]);
                    prop_assert_eq!(rec.result(), b.result());
                    prop_assert_eq!(rec.flags(), b.flags());
                }
            }
        }
        Simple::Done { slots, our, gen } => {
            let our = *our;
            let gen = gen.resolve(b.recover_start());
            let first = b.recover_mount() == 0;
            let bad_slot = slots.iter().find(|&&s| s > 0 && (s - 1) as usize >= N);
            let want_err = if let Some(&slot) = bad_slot {
                Some(RecoveryError::SlotBeyondCapacity { slot, capacity: N })
            } else if first && our <= 0 {
                Some(RecoveryError::InvalidSlot(our))
            } else if first && (our - 1) as usize >= N {
                Some(RecoveryError::SlotBeyondCapacity {
                    slot: our,
                    capacity: N,
                })
            } else {
                None
            };
            let got = rec.recover_done(slots, our, gen);
            hit(if got.is_ok() { "done:ok" } else { "done:err" });
            match (got, want_err) {
                (Err(e), Some(w)) => {
                    prop_assert_eq!(e, w);
                    prop_assert_eq!(&*rec, &b, "refused recover_done changed the state");
                }
                (Ok(work), None) => {
                    m.start = gen;
                    let unmount = b.flags().contains(RecoverFlags::UNMOUNT);
                    prop_assert_eq!(work, (!unmount).then_some(ControlWork::Now));
                    prop_assert_eq!(rec.recover_start(), gen);
                    prop_assert_eq!(rec.recover_block(), b.recover_block());
                    if first {
                        prop_assert_eq!(rec.recover_mount(), gen);
                        prop_assert_eq!(rec.jid(), our - 1);
                    } else {
                        prop_assert_eq!(rec.recover_mount(), b.recover_mount());
                        prop_assert_eq!(rec.jid(), b.jid());
                    }
                    prop_assert_eq!(rec.flags(), b.flags() - RecoverFlags::DLM_RECOVERY);
                    let new = model_size(b.policy(), size, slots, N) as usize;
                    prop_assert_eq!(rec.recover_size() as usize, new);
                    let mut sub = b.submit().to_vec();
                    sub.resize(new, 0);
                    let mut res = b.result().to_vec();
                    res.resize(new, 0);
                    prop_assert_eq!(rec.submit(), &sub[..]);
                    prop_assert_eq!(rec.result(), &res[..]);
                    prop_assert_eq!(rec.lvb_bits(), b.lvb_bits());
                }
                (g, w) => prop_assert!(false, "recover_done gave {:?}, model error {:?}", g, w),
            }
        }
        &Simple::Result { jid, result } => {
            let f = b.flags();
            let want = if f.contains(RecoverFlags::NO_DLM_OPS) {
                Ok(ResultOutcome::Ignored(ResultIgnored::NoDlmOps))
            } else if i64::from(jid) == i64::from(b.jid()) || (b.jid() < 0 && jid == b.jid() as u32)
            {
                Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid))
            } else if f.contains(RecoverFlags::FIRST_MOUNT) {
                Ok(ResultOutcome::Ignored(ResultIgnored::FirstMount))
            } else if jid as usize >= N {
                Err(RecoveryError::JidBeyondCapacity { jid, capacity: N })
            } else if jid >= size {
                Err(RecoveryError::ShortSize { jid, size })
            } else {
                let work = if f.contains(RecoverFlags::UNMOUNT) {
                    None
                } else if result == RD_GAVEUP {
                    Some(ControlWork::AfterHz)
                } else {
                    Some(ControlWork::Now)
                };
                Ok(ResultOutcome::Recorded(work))
            };
            let got = rec.recovery_result(jid, result);
            hit(match got {
                Ok(ResultOutcome::Recorded(_)) => "result:recorded",
                Ok(ResultOutcome::Ignored(_)) => "result:ignored",
                Err(_) => "result:err",
            });
            prop_assert_eq!(got, want);
            match got {
                Ok(ResultOutcome::Recorded(_)) => {
                    let mut res = b.result().to_vec();
                    res[jid as usize] = result;
                    prop_assert_eq!(rec.result(), &res[..]);
                    prop_assert_eq!(rec.submit(), b.submit());
                    prop_assert_eq!(rec.flags(), b.flags());
                }
                _ => prop_assert_eq!(
                    &*rec,
                    &b,
                    "ignored/refused recovery_result changed the state"
                ),
            }
        }
    }
    prop_assert_eq!(rec.policy(), b.policy());
    invariants(rec, m)
}

fn generations_moved<const N: usize>(rec: &Recovery<N>, block: u32, start: u32) -> bool {
    rec.recover_block() != block || rec.recover_start() != start
}

fn control_step<const N: usize>(
    rec: &mut Recovery<N>,
    m: &mut RModel,
    spec: &LvbSpec,
    mid1: &Option<Simple>,
    mid2: &Option<Simple>,
) -> TR {
    let b = rec.clone();
    let f = b.flags();
    let (t, call) = match rec.control_begin() {
        ControlBegin::NotReady => {
            hit("begin:not-ready");
            prop_assert!(!mounted_not_first(f));
            return Ok(());
        }
        ControlBegin::DlmRecovering => {
            hit("begin:dlm-recovering");
            prop_assert!(mounted_not_first(f));
            prop_assert_eq!(b.recover_block(), b.recover_start());
            return Ok(());
        }
        ControlBegin::Lock(t, call) => (t, call),
    };
    prop_assert!(mounted_not_first(f));
    prop_assert_ne!(b.recover_block(), b.recover_start());
    prop_assert_eq!(
        (t.block_gen, t.start_gen),
        (b.recover_block(), b.recover_start())
    );
    prop_assert_eq!(
        call,
        SyncLock {
            lock: LockId::Control,
            mode: DlmMode::Ex,
            flags: DlmLkf::from_bits_retain(LKF_CONVERT | LKF_VALBLK),
            lvb: None
        }
    );
    prop_assert_eq!(&*rec, &b);
    if let Some(s) = mid1 {
        apply_simple(rec, m, s)?;
    }
    let read = resolve_lvb(spec, t.start_gen, &m.cluster);
    m.cluster = read;
    let pre = rec.clone();
    let moved = generations_moved(&pre, t.block_gen, t.start_gen);
    let mut t = t;
    match rec.control_locked(&mut t, &read) {
        ControlUpdate::Stale(c) => {
            hit("locked:stale");
            prop_assert!(moved, "Stale without a generation change");
            prop_assert_eq!(
                c,
                SyncLock {
                    lock: LockId::Control,
                    mode: DlmMode::Nl,
                    flags: DlmLkf::from_bits_retain(LKF_CONVERT),
                    lvb: None
                }
            );
            prop_assert_eq!(rec.lvb_bits(), &read);
            prop_assert_eq!(rec.submit(), pre.submit());
            prop_assert_eq!(rec.result(), pre.result());
            prop_assert_eq!(rec.flags(), pre.flags());
            return invariants(rec, m);
        }
        ControlUpdate::Convert { call, lvb_gen } => {
            prop_assert!(!moved, "Convert although the generations moved");
            let raw_read = *read.as_bytes();
            prop_assert_eq!(lvb_gen, gen_of(&raw_read));
            // gfs2_control_func L644-706 on plain arrays.
            let size = pre.recover_size() as usize;
            let start = t.start_gen;
            let mut bits = raw_read;
            let mut res = pre.result().to_vec();
            let mut sub = pre.submit().to_vec();
            let mut write = false;
            if lvb_gen <= start {
                for (i, r) in res.iter_mut().enumerate().take(size) {
                    if *r != RD_SUCCESS {
                        continue;
                    }
                    *r = 0;
                    if bit(&bits, i) {
                        set_bit(&mut bits, i, false);
                        write = true;
                    }
                }
            }
            if lvb_gen == start {
                for s in sub.iter_mut().take(size) {
                    if *s != 0 && *s < lvb_gen {
                        *s = 0;
                    }
                }
            } else if lvb_gen < start {
                for (i, s) in sub.iter_mut().enumerate().take(size) {
                    if *s != 0 && *s < start {
                        *s = 0;
                        set_bit(&mut bits, i, true);
                    }
                }
                write = true;
            }
            prop_assert_eq!(rec.result(), &res[..]);
            prop_assert_eq!(rec.submit(), &sub[..]);
            prop_assert_eq!(rec.lvb_bits().as_bytes(), &bits);
            prop_assert_eq!(rec.flags(), pre.flags());
            let want_call = if write {
                let mut w = bits;
                w[..4].copy_from_slice(&start.to_le_bytes());
                SyncLock {
                    lock: LockId::Control,
                    mode: DlmMode::Nl,
                    flags: DlmLkf::from_bits_retain(LKF_CONVERT | LKF_VALBLK),
                    lvb: Some(ControlLvb::from_array(w)),
                }
            } else {
                SyncLock {
                    lock: LockId::Control,
                    mode: DlmMode::Nl,
                    flags: DlmLkf::from_bits_retain(LKF_CONVERT),
                    lvb: None,
                }
            };
            prop_assert_eq!(call, want_call);
            if let Some(w) = call.lvb {
                hit("locked:write");
                m.cluster = w;
            } else {
                hit("locked:no-write");
            }
            let seen = *call.lvb.unwrap_or(read).as_bytes();
            invariants(rec, m)?;

            if let Some(s) = mid2 {
                apply_simple(rec, m, s)?;
            }
            let pre2 = rec.clone();
            let moved2 = generations_moved(&pre2, t.block_gen, t.start_gen);
            // The scan after NL uses the size read under the lock (L644), not the
            // current one.
            let pending = naive_jids(pre2.lvb_bits().as_bytes(), size);
            match rec.control_converted(&t) {
                ControlFinish::Recover(j) => {
                    hit("converted:recover");
                    prop_assert!(!pending.is_empty());
                    prop_assert_eq!(j.iter().collect::<Vec<u32>>(), pending);
                    prop_assert_eq!(&*rec, &pre2);
                }
                ControlFinish::Unblocked { generation } => {
                    hit("converted:unblocked");
                    prop_assert!(!moved2, "Unblocked although a recovery began");
                    prop_assert_eq!(generation, t.start_gen);
                    prop_assert!(
                        naive_jids(&seen, size).is_empty(),
                        "Unblocked with jid bits set below recover_size: {:?}",
                        naive_jids(&seen, 192)
                    );
                    prop_assert!(pending.is_empty());
                    prop_assert_eq!(rec.flags(), pre2.flags() - RecoverFlags::BLOCK_LOCKS);
                    m.blocked = false;
                    m.must_block = false;
                }
                ControlFinish::StillBlocked => {
                    hit("converted:still-blocked");
                    prop_assert!(moved2);
                    prop_assert!(pending.is_empty());
                    prop_assert_eq!(&*rec, &pre2);
                }
            }
        }
    }
    invariants(rec, m)
}

/// Drive a ControlMount along the successful ladder; a restart is abandoned.
fn simple_mount<const N: usize>(
    rec: &mut Recovery<N>,
    m: &mut RModel,
    first: bool,
    spec: &LvbSpec,
) -> TR {
    let mut cm = ControlMount::new();
    let mut step = cm.start(rec);
    m.blocked = true;
    let map = |e: MountError| TestCaseError::fail(format!("mount machine refused: {e:?}"));
    let mut ex_gen = None;
    for _ in 0..16 {
        if !matches!(step, MountStep::Mounted { .. }) {
            invariants(rec, m)?;
        }
        step = match step {
            MountStep::Lock(c) => {
                let (status, lvb) = match (c.lock, c.mode) {
                    (LockId::Control, DlmMode::Ex) => {
                        let l = resolve_lvb(spec, rec.recover_start(), &m.cluster);
                        m.cluster = l;
                        ex_gen = Some(l.generation());
                        (0, Some(l))
                    }
                    (LockId::Mounted, DlmMode::Ex) => (if first { 0 } else { K_EAGAIN }, None),
                    (LockId::Mounted, DlmMode::Nl) if c.flags.contains(DlmLkf::CONVERT) => {
                        return Ok(()); // a restart: abandoned
                    }
                    _ => (0, None),
                };
                cm.on_lock_result(rec, status, lvb.as_ref()).map_err(map)?
            }
            MountStep::Sleep { .. } if cm.retries() > 1 => return Ok(()),
            MountStep::Sleep { .. } => cm.on_sleep_done().map_err(map)?,
            MountStep::Unlock(_) => cm.on_unlock_result(0).map_err(map)?,
            MountStep::Mounted { first: f } => {
                hit(if f {
                    "rec-mount:first"
                } else {
                    "rec-mount:other"
                });
                prop_assert_eq!(f, first);
                prop_assert_ne!(ex_gen, Some(0xFFFF_FFFF));
                let fl = rec.flags();
                prop_assert!(fl.contains(RecoverFlags::MOUNT_DONE));
                prop_assert_eq!(fl.contains(RecoverFlags::FIRST_MOUNT), f);
                if !f {
                    prop_assert!(rec.lvb_bits().all_jid_bits_clear());
                    prop_assert_eq!(ex_gen, Some(rec.recover_start()));
                    prop_assert_ne!(rec.recover_block(), rec.recover_start());
                    prop_assert!(rec.submit().iter().all(|&x| x == 0));
                    prop_assert!(rec.result().iter().all(|&x| x == 0));
                }
                m.blocked = false;
                m.must_block = false;
                return invariants(rec, m);
            }
            MountStep::Failed { error, .. } => {
                prop_assert!(error < 0 || error != 0);
                return invariants(rec, m);
            }
        };
    }
    Ok(())
}

fn first_done_ev<const N: usize>(rec: &mut Recovery<N>, m: &mut RModel, pr: i32, nl: i32) -> TR {
    let b = rec.clone();
    let f = b.flags();
    let map = |e: MountError| TestCaseError::fail(format!("first_done refused: {e:?}"));
    let mut fd = FirstDone::new();
    let sanity = f.contains(RecoverFlags::BLOCK_LOCKS)
        || !f.contains(RecoverFlags::MOUNT_DONE)
        || !f.contains(RecoverFlags::FIRST_MOUNT);
    match fd.start(rec).map_err(map)? {
        FirstDoneStep::Unlock(LockId::Control) => {
            hit("first-done:sanity");
            prop_assert!(sanity);
            prop_assert_eq!(&*rec, &b);
            prop_assert_eq!(
                fd.on_unlock_result(0).map_err(map)?,
                FirstDoneStep::Done { result: -1 }
            );
        }
        FirstDoneStep::WaitDlmRecovery => {
            hit("first-done:wait");
            prop_assert!(!sanity);
            prop_assert_eq!(b.recover_start(), b.recover_block());
            prop_assert_eq!(&*rec, &b);
        }
        FirstDoneStep::Lock(c) => {
            hit("first-done:done");
            prop_assert!(!sanity);
            prop_assert_ne!(b.recover_start(), b.recover_block());
            prop_assert_eq!(
                c,
                SyncLock {
                    lock: LockId::Mounted,
                    mode: DlmMode::Pr,
                    flags: DlmLkf::from_bits_retain(LKF_CONVERT),
                    lvb: None
                }
            );
            let mut w = [0u8; 32];
            w[..4].copy_from_slice(&b.recover_start().to_le_bytes());
            let want = SyncLock {
                lock: LockId::Control,
                mode: DlmMode::Nl,
                flags: DlmLkf::from_bits_retain(LKF_CONVERT | LKF_VALBLK),
                lvb: Some(ControlLvb::from_array(w)),
            };
            prop_assert_eq!(
                fd.on_lock_result(pr).map_err(map)?,
                FirstDoneStep::Lock(want)
            );
            m.cluster = ControlLvb::from_array(w);
            prop_assert_eq!(
                fd.on_lock_result(nl).map_err(map)?,
                FirstDoneStep::Done { result: nl }
            );
            prop_assert_eq!(fd.mounted_pr_error(), pr);
            prop_assert_eq!(
                rec.flags(),
                (f - RecoverFlags::FIRST_MOUNT) | RecoverFlags::FIRST_MOUNT_DONE
            );
            prop_assert!(rec.submit().iter().all(|&x| x == 0));
            prop_assert!(rec.result().iter().all(|&x| x == 0));
            prop_assert_eq!(rec.lvb_bits(), &ControlLvb::zeroed());
        }
        other => prop_assert!(false, "first_done start gave {:?}", other),
    }
    Ok(())
}

fn run_recovery<const N: usize>(policy: SizePolicy, init: &Init, evs: &[Ev]) -> TR {
    let mut rec = if init.fresh {
        Recovery::<N>::new(policy)
    } else {
        let mut fl = RecoverFlags::from_bits_truncate(init.flags);
        if fl.contains(RecoverFlags::FIRST_MOUNT) {
            fl |= RecoverFlags::MOUNT_DONE;
            fl.remove(RecoverFlags::FIRST_MOUNT_DONE);
        }
        let size = (init.size16 * 16).min(N);
        Recovery::<N>::from_parts(
            policy,
            fl,
            init.mount,
            init.start,
            init.block,
            &init.submit[..size],
            &init.result[..size],
            init.jid,
            ControlLvb::from_array(init.lvb),
        )
        .map_err(|e| TestCaseError::fail(format!("from_parts: {e:?}")))?
    };
    let mut m = RModel {
        blocked: rec.locks_blocked(),
        start: rec.recover_start(),
        cluster: ControlLvb::zeroed(),
        must_block: false,
        consistent: rec.check().is_ok(),
    };
    invariants(&rec, &m)?;
    for ev in evs {
        match ev {
            Ev::S(s) => apply_simple(&mut rec, &mut m, s)?,
            Ev::Control { lvb, mid1, mid2 } => control_step(&mut rec, &mut m, lvb, mid1, mid2)?,
            Ev::Unmount => {
                let b = rec.clone();
                rec.unmount();
                prop_assert_eq!(rec.flags(), b.flags() | RecoverFlags::UNMOUNT);
                prop_assert_eq!(rec.submit(), b.submit());
            }
            Ev::Release => {
                let b = rec.clone();
                rec.release();
                prop_assert_eq!(rec.recover_size(), 0);
                prop_assert_eq!(rec.flags(), b.flags());
                prop_assert_eq!(rec.lvb_bits(), &ControlLvb::zeroed());
            }
            Ev::Mount { first, lvb } => {
                // gdlm_mount zeroes ls_recover_flags first; a Recovery that has
                // already mounted must be replaced, not re-mounted (see report).
                if !rec
                    .flags()
                    .intersects(RecoverFlags::MOUNT_DONE | RecoverFlags::FIRST_MOUNT_DONE)
                {
                    simple_mount(&mut rec, &mut m, *first, lvb)?;
                }
            }
            Ev::FirstDone { pr, nl } => first_done_ev(&mut rec, &mut m, *pr, *nl)?,
        }
        invariants(&rec, &m)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn recovery_sequences_keep_invariants(init in arb_init(), evs in vec(arb_ev(), 0..60)) {
        for policy in [SizePolicy::Fit, SizePolicy::Reference] {
            run_recovery::<16>(policy, &init, &evs)?;
            run_recovery::<192>(policy, &init, &evs)?;
        }
    }

    /// The same sequences from a fresh mount that is driven to "mounted, not first":
    /// most control steps then reach control_locked / control_converted.
    #[test]
    fn recovery_sequences_from_mounted(slots in vec(1..=16i32, 1..5), our in 1..=16i32,
                                       gen in 1..5u32, evs in vec(arb_ev(), 0..60)) {
        for policy in [SizePolicy::Fit, SizePolicy::Reference] {
            let mut init_evs = vec![
                Ev::S(Simple::Done { slots: slots.clone(), our, gen: GenSpec::Any(gen) }),
                Ev::Mount { first: false, lvb: LvbSpec::AtStart { delta: 0, jids: vec![] } },
            ];
            init_evs.extend(evs.iter().cloned());
            let init = Init {
                fresh: true, flags: 0, mount: 0, start: 0, block: 0, size16: 0,
                submit: vec![], result: vec![], jid: -1, lvb: [0; 32],
            };
            run_recovery::<16>(policy, &init, &init_evs)?;
            run_recovery::<192>(policy, &init, &init_evs)?;
        }
    }
}

// ---- 6. mount machines ------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Lock(LockId, DlmMode, u32),
    Unlock(LockId),
    Sleep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MOut {
    Mounted(bool),
    Failed(i32),
    Incomplete,
}

#[derive(Clone, Debug)]
enum Conc {
    Prep,
    Done {
        slots: Vec<i32>,
        our: i32,
        gen: GenSpec,
    },
}

#[derive(Clone, Debug)]
enum MLvb {
    AtStart(Vec<u32>),
    AtMount,
    Gen(u32),
    Disabled,
    Raw([u8; 32]),
}

#[derive(Clone, Debug)]
struct Item {
    status: i32,
    lvb: MLvb,
    signal: bool,
    conc: Option<Conc>,
    omit_lvb: bool,
    bogus: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Gens {
    block: u32,
    start: u32,
    mount: u32,
}

impl Gens {
    fn apply(&mut self, c: &Option<Conc>) {
        match c {
            None => {}
            Some(Conc::Prep) => self.block = self.start,
            Some(Conc::Done { gen, .. }) => {
                self.start = gen.resolve(self.start);
                if self.mount == 0 {
                    self.mount = self.start;
                }
            }
        }
    }

    fn lvb(&self, l: &MLvb) -> ControlLvb {
        let mut raw = [0u8; 32];
        let g = match l {
            MLvb::AtStart(jids) => {
                for &j in jids {
                    set_bit(&mut raw, j as usize, true);
                }
                self.start
            }
            MLvb::AtMount => self.mount,
            MLvb::Gen(g) => *g,
            MLvb::Disabled => 0xFFFF_FFFF,
            MLvb::Raw(r) => return ControlLvb::from_array(*r),
        };
        raw[..4].copy_from_slice(&g.to_le_bytes());
        ControlLvb::from_array(raw)
    }
}

fn arb_item() -> impl Strategy<Value = Item> {
    (
        prop_oneof![16 => Just(0), 3 => Just(K_EAGAIN), 1 => -200..0i32, 1 => any::<i32>()],
        prop_oneof![
            10 => prop_oneof![3 => Just(vec![]), 1 => vec(0..24u32, 1..3)].prop_map(MLvb::AtStart),
            1 => Just(MLvb::AtMount),
            1 => prop_oneof![0..6u32, any::<u32>()].prop_map(MLvb::Gen),
            1 => Just(MLvb::Disabled),
            1 => any::<[u8; 32]>().prop_map(MLvb::Raw),
        ],
        prop::bool::weighted(0.05),
        prop_oneof![
            16 => Just(None),
            1 => Just(Some(Conc::Prep)),
            1 => (vec(1..=16i32, 0..4), 1..=16i32, arb_gen())
                .prop_map(|(slots, our, gen)| Some(Conc::Done { slots, our, gen })),
        ],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(status, lvb, signal, conc, omit_lvb, bogus)| Item {
            status,
            lvb,
            signal,
            conc,
            omit_lvb,
            bogus,
        })
}

/// The reply to a call: with `others`, other nodes hold mounted_lock PR, so a
/// mounted EX|NOQUEUE request can only get -EAGAIN.
fn reply_status(c: &Call, item: &Item, others: bool) -> i32 {
    match c {
        Call::Lock(LockId::Mounted, DlmMode::Ex, _) if others => K_EAGAIN,
        _ => item.status,
    }
}

/// `control_mount` (L753-934 with NOTES.md's gotos) as straight-line code over a
/// script of replies. Each DLM call or sleep consumes one item; the item's
/// concurrent callback and signal happen before the reply.
fn model_control_mount(script: &[Item], others: bool, mut g: Gens) -> (Vec<Call>, MOut) {
    struct Run<'a> {
        script: &'a [Item],
        others: bool,
        pos: usize,
        calls: Vec<Call>,
        sig: bool,
    }
    impl Run<'_> {
        fn call(&mut self, c: Call, g: &mut Gens) -> Option<(i32, ControlLvb)> {
            self.calls.push(c.clone());
            let item = self.script.get(self.pos)?;
            let status = reply_status(&c, item, self.others);
            self.pos += 1;
            g.apply(&item.conc);
            self.sig |= item.signal;
            Some((status, g.lvb(&item.lvb)))
        }
    }
    let mut r = Run {
        script,
        others,
        pos: 0,
        calls: vec![],
        sig: false,
    };
    macro_rules! call {
        ($c:expr) => {
            match r.call($c, &mut g) {
                Some(x) => x,
                None => return (r.calls, MOut::Incomplete),
            }
        };
    }
    use LockId::{Control, Mounted};
    let (e, _) = call!(Call::Lock(Control, DlmMode::Nl, LKF_VALBLK));
    if e != 0 {
        return (r.calls, MOut::Failed(e));
    }
    let (e, _) = call!(Call::Lock(Mounted, DlmMode::Nl, 0));
    if e != 0 {
        call!(Call::Unlock(Control));
        return (r.calls, MOut::Failed(e));
    }
    let mut mounted_mode = DlmMode::Nl;
    let mut retries = 0u32;
    let error = 'fail: loop {
        // restart:
        let tried = retries;
        retries += 1;
        if tried != 0 && r.sig {
            break 'fail K_EINTR;
        }
        if mounted_mode != DlmMode::Nl {
            let (e, _) = call!(Call::Lock(Mounted, DlmMode::Nl, LKF_CONVERT));
            if e != 0 {
                break 'fail e;
            }
            mounted_mode = DlmMode::Nl;
        }
        call!(Call::Sleep);
        let (e, lvb) = call!(Call::Lock(
            Control,
            DlmMode::Ex,
            LKF_CONVERT | LKF_NOQUEUE | LKF_VALBLK
        ));
        if e == K_EAGAIN {
            continue;
        } else if e != 0 {
            break 'fail e;
        }
        let raw = *lvb.as_bytes();
        let (e, _) = call!(Call::Lock(Mounted, DlmMode::Ex, LKF_CONVERT | LKF_NOQUEUE));
        if e == 0 {
            mounted_mode = DlmMode::Ex;
        } else if e != K_EAGAIN {
            break 'fail e;
        } else {
            let (e, _) = call!(Call::Lock(Mounted, DlmMode::Pr, LKF_CONVERT | LKF_NOQUEUE));
            if e != 0 {
                break 'fail e;
            }
            mounted_mode = DlmMode::Pr;
        }
        // locks_done:
        let lvb_gen = gen_of(&raw);
        if lvb_gen == 0xFFFF_FFFF {
            break 'fail K_EINVAL;
        }
        if mounted_mode == DlmMode::Ex {
            return (r.calls, MOut::Mounted(true));
        }
        let (e, _) = call!(Call::Lock(Control, DlmMode::Nl, LKF_CONVERT));
        if e != 0 {
            break 'fail e;
        }
        if raw[8..].iter().any(|&b| b != 0) {
            continue;
        }
        if lvb_gen < g.mount || lvb_gen != g.start || g.block == g.start {
            continue;
        }
        return (r.calls, MOut::Mounted(false));
    };
    call!(Call::Unlock(Mounted));
    call!(Call::Unlock(Control));
    (r.calls, MOut::Failed(error))
}

fn drive_control_mount<const N: usize>(
    rec: &mut Recovery<N>,
    script: &[Item],
    others: bool,
    mut g: Gens,
) -> Result<(Vec<Call>, MOut), TestCaseError> {
    let map = |e: MountError| TestCaseError::fail(format!("mount machine refused: {e:?}"));
    let mut cm = ControlMount::new();
    let mut step = cm.start(rec);
    prop_assert!(rec.locks_blocked());
    let mut calls = vec![];
    let mut items = script.iter();
    let zero = ControlLvb::zeroed();
    loop {
        let call = match step {
            MountStep::Lock(c) => {
                prop_assert_eq!(c.lvb, None);
                Call::Lock(c.lock, c.mode, c.flags.bits())
            }
            MountStep::Unlock(l) => Call::Unlock(l),
            MountStep::Sleep { ms } => {
                prop_assert_eq!(ms, 500);
                Call::Sleep
            }
            MountStep::Mounted { first } => {
                if first {
                    prop_assert_eq!(cm.mounted_mode(), DlmMode::Ex);
                }
                return Ok((calls, MOut::Mounted(first)));
            }
            MountStep::Failed { error, .. } => return Ok((calls, MOut::Failed(error))),
        };
        calls.push(call.clone());
        let Some(item) = items.next() else {
            return Ok((calls, MOut::Incomplete));
        };
        match &item.conc {
            None => {}
            Some(Conc::Prep) => rec.recover_prep(),
            Some(Conc::Done { slots, our, gen }) => {
                let gen = gen.resolve(rec.recover_start());
                prop_assert!(rec.recover_done(slots, *our, gen).is_ok());
            }
        }
        g.apply(&item.conc);
        prop_assert_eq!(
            (
                rec.recover_block(),
                rec.recover_start(),
                rec.recover_mount()
            ),
            (g.block, g.start, g.mount)
        );
        prop_assert!(rec.locks_blocked(), "BLOCK_LOCKS cleared mid-mount");
        if item.signal {
            cm.interrupt();
        }
        if item.bogus {
            let (m0, r0) = (cm, rec.clone());
            let bad = MountError::UnexpectedInput;
            match call {
                Call::Lock(..) => {
                    prop_assert_eq!(cm.on_sleep_done(), Err(bad));
                    prop_assert_eq!(cm.on_unlock_result(0), Err(bad));
                }
                Call::Unlock(_) => {
                    prop_assert_eq!(cm.on_sleep_done(), Err(bad));
                    prop_assert_eq!(cm.on_lock_result(rec, 0, Some(&zero)), Err(bad));
                }
                Call::Sleep => {
                    prop_assert_eq!(cm.on_lock_result(rec, 0, Some(&zero)), Err(bad));
                    prop_assert_eq!(cm.on_unlock_result(0), Err(bad));
                }
            }
            prop_assert_eq!(cm, m0);
            prop_assert_eq!(&*rec, &r0);
        }
        let lvb = g.lvb(&item.lvb);
        let status = reply_status(&call, item, others);
        step = match call {
            Call::Lock(LockId::Control, DlmMode::Ex, _) => {
                if item.omit_lvb && status == 0 {
                    let (m0, r0) = (cm, rec.clone());
                    prop_assert_eq!(cm.on_lock_result(rec, 0, None), Err(MountError::MissingLvb));
                    prop_assert_eq!(cm, m0);
                    prop_assert_eq!(&*rec, &r0);
                }
                cm.on_lock_result(rec, status, Some(&lvb)).map_err(map)?
            }
            Call::Lock(..) => {
                let l = (!item.omit_lvb).then_some(&lvb);
                cm.on_lock_result(rec, status, l).map_err(map)?
            }
            Call::Unlock(_) => cm.on_unlock_result(item.status).map_err(map)?,
            Call::Sleep => cm.on_sleep_done().map_err(map)?,
        };
    }
}

fn check_control_mount<const N: usize>(pre: &Option<Conc>, script: &[Item], others: bool) -> TR {
    let mut rec = Recovery::<N>::new(SizePolicy::Fit);
    let mut g = Gens {
        block: 0,
        start: 0,
        mount: 0,
    };
    if let Some(Conc::Done { slots, our, gen }) = pre {
        let gen = gen.resolve(0);
        prop_assert!(rec.recover_done(slots, *our, gen).is_ok());
    }
    g.apply(pre);
    let (want_calls, want_out) = model_control_mount(script, others, g);
    let (calls, out) = drive_control_mount(&mut rec, script, others, g)?;
    hit(match out {
        MOut::Mounted(true) => "mount:first",
        MOut::Mounted(false) => "mount:other",
        MOut::Failed(K_EINTR) => "mount:eintr",
        MOut::Failed(K_EINVAL) => "mount:disabled",
        MOut::Failed(_) => "mount:failed",
        MOut::Incomplete => "mount:incomplete",
    });
    if calls.iter().filter(|c| **c == Call::Sleep).count() > 1 {
        hit("mount:restarted");
    }
    prop_assert_eq!(&calls, &want_calls);
    prop_assert_eq!(out, want_out);
    use LockId::{Control, Mounted};
    let f = rec.flags();
    match out {
        MOut::Failed(e) => {
            prop_assert_ne!(e, 0);
            let early = calls.len() <= 1
                || calls
                    == [
                        Call::Lock(Control, DlmMode::Nl, LKF_VALBLK),
                        Call::Lock(Mounted, DlmMode::Nl, 0),
                        Call::Unlock(Control),
                    ];
            prop_assert!(
                early || calls.ends_with(&[Call::Unlock(Mounted), Call::Unlock(Control)]),
                "Failed without both unlocks: {:?}",
                calls
            );
            prop_assert!(f.contains(RecoverFlags::BLOCK_LOCKS));
            prop_assert!(!f.contains(RecoverFlags::MOUNT_DONE));
        }
        MOut::Mounted(first) => {
            prop_assert!(!f.contains(RecoverFlags::BLOCK_LOCKS));
            prop_assert!(f.contains(RecoverFlags::MOUNT_DONE));
            prop_assert_eq!(f.contains(RecoverFlags::FIRST_MOUNT), first);
            if first {
                prop_assert_eq!(
                    calls.last(),
                    Some(&Call::Lock(Mounted, DlmMode::Ex, LKF_CONVERT | LKF_NOQUEUE))
                );
                prop_assert!(!rec.lvb_bits().is_disabled());
            } else {
                prop_assert_eq!(
                    calls.last(),
                    Some(&Call::Lock(Control, DlmMode::Nl, LKF_CONVERT))
                );
                prop_assert!(rec.lvb_bits().all_jid_bits_clear());
                prop_assert!(rec.submit().iter().all(|&x| x == 0));
                prop_assert!(rec.result().iter().all(|&x| x == 0));
            }
        }
        MOut::Incomplete => {
            prop_assert!(f.contains(RecoverFlags::BLOCK_LOCKS));
            prop_assert!(!f.contains(RecoverFlags::MOUNT_DONE));
        }
    }
    prop_assert_eq!(rec.check(), Ok(()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn control_mount_follows_reference_ladder(
        pre in prop_oneof![
            1 => Just(None),
            4 => (vec(1..=16i32, 0..4), 1..=16i32, prop_oneof![1..6u32, any::<u32>()])
                .prop_map(|(slots, our, g)| Some(Conc::Done { slots, our, gen: GenSpec::Any(g) })),
        ],
        script in vec(arb_item(), 0..40),
        others in any::<bool>(),
    ) {
        check_control_mount::<16>(&pre, &script, others)?;
        check_control_mount::<192>(&pre, &script, others)?;
    }

    #[test]
    fn first_done_sanity_and_ladder(flags in 0..0x80u32, start in prop_oneof![0..4u32, any::<u32>()],
                                    block in prop_oneof![0..4u32, any::<u32>()], size16 in 0..2usize,
                                    entries in vec(any::<u32>(), 32), lvb in any::<[u8; 32]>(),
                                    pr in arb_status(), nl in arb_status(), unlock in any::<i32>()) {
        let size = size16 * 16;
        let mut rec = Recovery::<16>::from_parts(
            SizePolicy::Fit, RecoverFlags::from_bits_truncate(flags), 1, start, block,
            &entries[..size], &entries[16..16 + size], 0, ControlLvb::from_array(lvb),
        ).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let b = rec.clone();
        let f = b.flags();
        let sanity = f.contains(RecoverFlags::BLOCK_LOCKS)
            || !f.contains(RecoverFlags::MOUNT_DONE)
            || !f.contains(RecoverFlags::FIRST_MOUNT);
        let bad = Err(MountError::UnexpectedInput);
        let mut fd = FirstDone::new();
        prop_assert_eq!(fd.on_lock_result(0), bad);
        prop_assert_eq!(fd.on_unlock_result(0), bad);
        let step = fd.start(&mut rec);
        if sanity {
            prop_assert_eq!(step, Ok(FirstDoneStep::Unlock(LockId::Control)));
            prop_assert_eq!(&rec, &b);
            prop_assert_eq!(fd.on_lock_result(0), bad);
            prop_assert_eq!(fd.start(&mut rec), bad);
            prop_assert_eq!(fd.on_unlock_result(unlock), Ok(FirstDoneStep::Done { result: -1 }));
        } else if start == block {
            prop_assert_eq!(step, Ok(FirstDoneStep::WaitDlmRecovery));
            prop_assert_eq!(&rec, &b);
            prop_assert_eq!(fd.start(&mut rec), Ok(FirstDoneStep::WaitDlmRecovery));
        } else {
            let mut m = RModel {
                blocked: false,
                start,
                cluster: ControlLvb::zeroed(),
                must_block: false,
                consistent: true,
            };
            rec = b.clone();
            first_done_ev(&mut rec, &mut m, pr, nl)?;
            let mut fd2 = FirstDone::new();
            prop_assert!(matches!(fd2.start(&mut b.clone()), Ok(FirstDoneStep::Lock(_))));
            prop_assert_eq!(fd2.on_unlock_result(0), bad);
        }
    }
}

// ---- 7. lock table and host data --------------------------------------------------

/// `match_one` "%d" + `match_int` of Linux v3.12 (lib/parser.c, lib/vsprintf.c):
/// `simple_strtol(s, &end, 0)` must consume the whole value and move `end`; the
/// value is then range-checked as an int. Returns (value, wrapped) where `wrapped`
/// says the u64 accumulation overflowed (the kernel silently wraps).
fn kernel_match_int(s: &str) -> (Option<Option<i32>>, bool) {
    let b = s.as_bytes();
    let (neg, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    // _parse_integer_fixup_radix
    let (base, digits): (u64, &[u8]) = if rest.first() == Some(&b'0') {
        if rest.len() >= 3 && (rest[1] | 0x20) == b'x' && rest[2].is_ascii_hexdigit() {
            (16, &rest[2..])
        } else {
            (8, rest)
        }
    } else {
        (10, rest)
    };
    let mut v: u64 = 0;
    let mut n = 0;
    let mut wrapped = false;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        if u64::from(d) >= base {
            break;
        }
        let (x, o1) = v.overflowing_mul(base);
        let (x, o2) = x.overflowing_add(u64::from(d));
        wrapped |= o1 || o2;
        v = x;
        n += 1;
    }
    let end = b.len() - digits.len() + n;
    if end == 0 || end != b.len() {
        return (None, wrapped); // the token does not match: Opt_err
    }
    let val = if neg {
        (v as i64).wrapping_neg()
    } else {
        v as i64
    };
    (Some(i32::try_from(val).ok()), wrapped)
}

/// `gfs2_lm_mount`'s loop over `strsep(&options, ":")` with `dlm_tokens`.
/// `None` inside means "unknown hostdata"; the bool flags a known divergence.
fn model_hostdata(s: &str) -> (Result<MountOptions, TableError>, bool) {
    let mut o = MountOptions::default();
    let mut diverges = false;
    for field in s.split(':').filter(|f| !f.is_empty()) {
        let Some((key, val)) = field.split_once('=') else {
            return (Err(TableError::UnknownHostdata), diverges);
        };
        let (m, wrapped) = kernel_match_int(val);
        diverges |= wrapped || val.starts_with('+') || val == "-";
        let Some(range) = m else {
            return (Err(TableError::UnknownHostdata), diverges);
        };
        match key {
            "jid" => match range {
                Some(v) if v >= 0 => {
                    o.jid.get_or_insert(v as u32);
                }
                _ => return (Err(TableError::UnknownHostdata), diverges),
            },
            // Opt_id: matched by the token, never range-checked.
            "id" => diverges |= range.is_none(),
            "first" | "nodir" => {
                let v = match range {
                    Some(0) => false,
                    Some(1) => true,
                    _ => return (Err(TableError::UnknownHostdata), diverges),
                };
                if key == "first" {
                    o.first = v;
                } else {
                    o.nodir = v;
                }
            }
            _ => return (Err(TableError::UnknownHostdata), diverges),
        }
    }
    (Ok(o), diverges)
}

fn arb_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..3u32).prop_map(|v| v.to_string()),
        any::<i32>().prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| format!("0x{v:x}")),
        any::<u32>().prop_map(|v| format!("0X{v:X}")),
        any::<u32>().prop_map(|v| format!("0{v:o}")),
        "[-+]?(0[xX]?)?[0-9a-fA-FxX+-]{0,6}",
        "[0-9]{18,22}",
        ".{0,4}",
    ]
}

fn arb_hostdata() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        (
            prop::sample::select(vec!["jid", "id", "first", "nodir", "spectator", "", "JID"]),
            prop::sample::select(vec!["=", "==", "", "= "]),
            arb_value()
        )
            .prop_map(|(k, e, v)| format!("{k}{e}{v}")),
        Just(String::new()),
    ];
    vec(field, 0..5).prop_map(|v| v.join(":"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn parsers_never_panic(s in prop_oneof![".*", "[a-z=:0-9xX+-]{0,80}", arb_hostdata()]) {
        let _ = MountOptions::parse(&s);
        match LockTable::parse(&s) {
            Ok(t) => {
                prop_assert_eq!(format!("{}:{}", t.cluster, t.fsname), s.clone());
                prop_assert!(!t.cluster.contains(':'));
                prop_assert!(!t.fsname.is_empty());
                prop_assert!(t.cluster.len() < 64 && t.fsname.len() <= 64);
            }
            Err(TableError::NoFsname) => prop_assert!(!s.contains(':')),
            Err(TableError::BadLength) => {
                let (c, f) = s.split_once(':').unwrap_or_default();
                prop_assert!(f.is_empty() || c.len() >= 64 || f.len() > 64);
            }
            Err(e) => prop_assert!(false, "LockTable::parse gave {:?}", e),
        }
    }

    #[test]
    fn lock_table_length_limits(cl in 0..70usize, fl in 0..70usize, extra_colon in any::<bool>(),
                                ch in prop::sample::select(vec!['a', 'é', '-'])) {
        // gdlm_mount: cluster[GFS2_LOCKNAME_LEN] keeps a NUL (< 64 bytes);
        // dlm_new_lockspace refuses a name longer than DLM_LOCKSPACE_LEN (64).
        let cluster: String = std::iter::repeat_n(ch, cl).collect::<String>();
        let mut fsname: String = std::iter::repeat_n('f', fl).collect();
        if extra_colon && fl > 0 {
            fsname.replace_range(0..1, ":");
        }
        let table = format!("{cluster}:{fsname}");
        let ok = !fsname.is_empty() && cluster.len() < 64 && fsname.len() <= 64;
        match LockTable::parse(&table) {
            Ok(t) => {
                prop_assert!(ok, "{:?} accepted", table);
                prop_assert_eq!(t.cluster.as_str(), cluster.as_str());
                prop_assert_eq!(t.fsname.as_str(), fsname.as_str());
            }
            Err(e) => {
                prop_assert!(!ok, "{:?} refused: {:?}", table, e);
                prop_assert_eq!(e, TableError::BadLength);
            }
        }
    }

    #[test]
    fn hostdata_matches_kernel_parser(s in arb_hostdata()) {
        let got = MountOptions::parse(&s);
        let (want, diverges) = model_hostdata(&s);
        if !diverges {
            prop_assert_eq!(got, want, "hostdata {:?}", s);
        }
    }

    #[test]
    fn jid_round_trips_in_every_base(n in prop_oneof![0..20u32, 0..=i32::MAX as u32, Just(i32::MAX as u32)],
                                     other in 0..=i32::MAX as u32, base in 0..4usize) {
        let r = match base {
            0 => format!("{n}"),
            1 => format!("0x{n:x}"),
            2 => format!("0X{n:X}"),
            _ => format!("0{n:o}"),
        };
        prop_assert_eq!(MountOptions::parse(&format!("jid={r}")).map(|o| o.jid), Ok(Some(n)));
        prop_assert_eq!(
            MountOptions::parse(&format!(":first=1::jid={r}:nodir=0:jid={other}")),
            Ok(MountOptions { jid: Some(n), first: true, nodir: false })
        );
    }
}

// ---- coverage of the generators ---------------------------------------------------

/// The sequence properties are only as good as the paths they reach: run the
/// strategies deterministically and require every interesting outcome.
#[test]
fn generators_reach_every_outcome() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let runner = |cases| {
        TestRunner::new_with_rng(
            Config::with_cases(cases),
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        )
    };
    HITS.with(|h| h.borrow_mut().clear());
    runner(96)
        .run(&(arb_init(), vec(arb_ev(), 0..60)), |(init, evs)| {
            run_recovery::<192>(SizePolicy::Reference, &init, &evs)
        })
        .expect("recovery sequences");
    runner(96)
        .run(
            &(
                vec(1..=16i32, 1..5),
                1..=16i32,
                1..5u32,
                vec(arb_ev(), 0..60),
            ),
            |(slots, our, gen, evs)| {
                let mut all = vec![
                    Ev::S(Simple::Done {
                        slots,
                        our,
                        gen: GenSpec::Any(gen),
                    }),
                    Ev::Mount {
                        first: false,
                        lvb: LvbSpec::AtStart {
                            delta: 0,
                            jids: vec![],
                        },
                    },
                ];
                all.extend(evs);
                let init = Init {
                    fresh: true,
                    flags: 0,
                    mount: 0,
                    start: 0,
                    block: 0,
                    size16: 0,
                    submit: vec![],
                    result: vec![],
                    jid: -1,
                    lvb: [0; 32],
                };
                run_recovery::<16>(SizePolicy::Fit, &init, &all)
            },
        )
        .expect("recovery sequences from mounted");
    runner(512)
        .run(
            &(
                prop_oneof![
                    Just(None),
                    (vec(1..=16i32, 0..4), 1..=16i32, 1..6u32).prop_map(|(slots, our, g)| Some(
                        Conc::Done {
                            slots,
                            our,
                            gen: GenSpec::Any(g)
                        }
                    )),
                ],
                vec(arb_item(), 0..40),
                any::<bool>(),
            ),
            |(pre, script, others)| check_control_mount::<16>(&pre, &script, others),
        )
        .expect("control_mount");
    let hits = HITS.with(|h| h.borrow().clone());
    for k in [
        "begin:not-ready",
        "begin:dlm-recovering",
        "locked:stale",
        "locked:write",
        "locked:no-write",
        "converted:recover",
        "converted:unblocked",
        "converted:still-blocked",
        "rec-mount:first",
        "rec-mount:other",
        "slot:ok",
        "slot:err",
        "done:ok",
        "done:err",
        "result:recorded",
        "result:ignored",
        "result:err",
        "first-done:sanity",
        "first-done:wait",
        "first-done:done",
        "mount:first",
        "mount:other",
        "mount:eintr",
        "mount:disabled",
        "mount:failed",
        "mount:incomplete",
        "mount:restarted",
    ] {
        assert!(
            hits.get(k).copied().unwrap_or(0) > 0,
            "{k} never reached: {hits:?}"
        );
    }
    eprintln!("outcomes reached: {hits:?}");
}

// ---- Linux 7.2 profile --------------------------------------------------------------

fn arb_glock() -> impl Strategy<Value = gdlm_core::flags::LockGlock> {
    (
        arb_state(),
        any::<bool>(),
        prop_oneof![Just(0u32), any::<u32>()],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(gl_state, has_lvb, lkid, glf_initial, glf_blocking)| {
            gdlm_core::flags::LockGlock {
                gl_state,
                has_lvb,
                lkid,
                glf_initial,
                glf_blocking,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// 7.2's gdlm_lock (make_flags with its own `blocking`) equals one make_flags call
    /// under MODERN (QUECVT computed from the held mode), as UPSTREAM-7.2.md §2.5 says,
    /// and follows 7.2:L287-305 for the other outputs.
    #[test]
    fn linux72_gdlm_lock_matches_modern_and_model(gl in arb_glock(), f in arb_lm_flags(),
                                                  req_state in prop_oneof![0..6u32, any::<u32>()],
                                                  t in arb_u32(), n in arb_u64()) {
        use gdlm_core::Profile;
        let name = LockName::new(t, n);
        let gf = LmFlags::from_bits_retain(f);
        let got = Profile::Linux72.gdlm_lock(&name, req_state, gf, &gl);
        let ctx = LockContext { has_lvb: gl.has_lvb, converting: !gl.glf_initial,
            glf_blocking: false, cur: Some(gl.gl_state.to_dlm()) };
        let modern = lock_request(&FlagPolicy::MODERN, &name, NameStyle::Reference, req_state, gf, &ctx);
        prop_assert_eq!(got.map(|l| l.request), modern);
        match got {
            Err(e) => {
                prop_assert!(req_state > 3);
                prop_assert_eq!(e, FlagsError::Mode(ModeError::UnknownState(req_state)));
            }
            Ok(l) => {
                let req = LmState::try_from(req_state).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let blocking = !model_down(gl.gl_state.to_dlm(), req.to_dlm()) && f & (LM_TRY | LM_TRY_1CB) == 0;
                prop_assert_eq!(l.blocking, blocking);
                prop_assert_eq!(l.glf_blocking_after, gl.glf_blocking || blocking);
                prop_assert_eq!(l.gl_req_after, Some(req));
                prop_assert_eq!(l.cur, gl.gl_state.to_dlm());
                // Name and stamps keyed on GLF_INITIAL, never on the lkid.
                prop_assert_eq!(l.request.name.is_some(), gl.glf_initial);
                prop_assert_eq!(l.request.stamp == RequestStamp::SetDstamp, gl.glf_initial);
                prop_assert!(!l.request.flags.intersects(DlmLkf::ALTPR | DlmLkf::ALTCW | DlmLkf::NOORDER | DlmLkf::HEADQUE));
            }
        }
        // The reference ignores glf_initial and keys on the lkid.
        if let Ok(r) = Profile::Reference.gdlm_lock(&name, req_state, gf, &gl) {
            prop_assert_eq!(r.request.name.is_some(), gl.lkid == 0);
            prop_assert_eq!(r.glf_blocking_after, gl.glf_blocking);
            prop_assert!(!r.blocking && r.gl_req_after.is_none());
        }
    }

    /// The in-place AST writes exactly what the by-value outcome says, and nothing on
    /// Err / Free / Ignored.
    #[test]
    fn gdlm_ast_in_place_agrees(a in arb_ast()) {
        use gdlm_core::ast::{gdlm_ast_in_place, AstAction};
        for style in [AstStyle::Reference, AstStyle::Modern] {
            let mut g = a;
            let act = gdlm_ast_in_place(style, &mut g);
            match (act, gdlm_ast(style, &a)) {
                (Ok(AstAction::Complete { ret, lvb_zeroed }),
                 Ok(AstOutcome::Complete { ret: r2, lvb_zeroed: z2, lkid, glf_initial })) => {
                    prop_assert_eq!((ret, lvb_zeroed), (r2, z2));
                    prop_assert_eq!(g, AstInput { lkid, glf_initial, ..a });
                }
                (Ok(AstAction::Free { lvb_zeroed }), Ok(AstOutcome::Free { lvb_zeroed: z2 })) => {
                    prop_assert_eq!(lvb_zeroed, z2);
                    prop_assert_eq!(g, a);
                }
                (Ok(AstAction::Ignored), Ok(AstOutcome::Ignored)) => prop_assert_eq!(g, a),
                (Err(e), Err(e2)) => {
                    prop_assert_eq!(e, e2);
                    prop_assert_eq!(g, a);
                }
                (x, y) => prop_assert!(false, "{:?} vs {:?}", x, y),
            }
        }
    }

    /// 7.2's put_lock: BUG_ON(!dead), free while GLF_INITIAL, free_later on SKIP
    /// unless an EX LVB must be written, VALBLK only with an LVB; no DFL_UNMOUNT.
    #[test]
    fn linux72_put_lock_matches_model(lkid in prop_oneof![Just(0u32), any::<u32>()], has_lvb in any::<bool>(),
                                      gl_state in arb_state(), skip in any::<bool>(),
                                      glf_initial in any::<bool>(), dead in any::<bool>(),
                                      ret in prop_oneof![Just(0i32), Just(-19), Just(-16), any::<i32>()]) {
        use gdlm_core::ast::UnlockDone;
        use gdlm_core::Profile;
        let p = PutLockInput { lkid, has_lvb, gl_state, skip_dlm_unlock: skip };
        let want = if !dead {
            Err(AstError::NotDead)
        } else if glf_initial {
            Ok(PutLock::Free)
        } else if skip && !(has_lvb && gl_state == LmState::Exclusive) {
            Ok(PutLock::FreeSkipUnlock)
        } else {
            Ok(PutLock::Unlock { lkid, flags: DlmLkf::from_bits_retain(if has_lvb { LKF_VALBLK } else { 0 }) })
        };
        prop_assert_eq!(Profile::Linux72.put_lock(&p, glf_initial, dead), want);
        let done = Profile::Linux72.put_lock_unlock_result(ret);
        prop_assert_eq!(done, match ret { 0 => UnlockDone::AwaitAst, -19 => UnlockDone::Free, e => UnlockDone::Logged(e) });
        // Cancel: always passed on unless released.
        let c = Profile::Linux72.cancel(lkid, skip);
        prop_assert_eq!(c, Ok((!skip).then_some(CancelRequest { lkid, flags: DlmLkf::CANCEL })));
    }

    /// The DLM retry decisions: 7.2 retries exactly -EBUSY and answers -ENODEV for a
    /// released lockspace; the reference never does either.
    #[test]
    fn dlm_loop_decisions(ret in prop_oneof![Just(-16i32), Just(-19), any::<i32>()], released in any::<bool>()) {
        use gdlm_core::{DlmAttempt, DlmRetry, Profile};
        prop_assert_eq!(Profile::Linux72.after_dlm_call(ret),
            if ret == -16 { DlmRetry::Sleep { ms: 20 } } else { DlmRetry::Done(ret) });
        prop_assert_eq!(Profile::Reference.after_dlm_call(ret), DlmRetry::Done(ret));
        prop_assert_eq!(Profile::Linux72.dlm_attempt(released),
            if released { DlmAttempt::Released(-19) } else { DlmAttempt::Call });
        prop_assert_eq!(Profile::Reference.dlm_attempt(released), DlmAttempt::Call);
    }

    /// Once withdrawn under 7.2, no sequence of recovery callbacks changes the state.
    #[test]
    fn linux72_withdrawn_state_never_changes(
        evs in vec((0..4u8, -3..40i32, prop_oneof![Just(309u32), Just(308u32), any::<u32>()]), 1..30),
        pre in vec(1..20i32, 1..4)) {
        let mut r = gdlm_core::Profile::Linux72.recovery::<32>();
        let _ = r.recover_done(&pre, pre[0], 5);
        r.withdraw();
        let before = r.clone();
        for (k, slot, result) in evs {
            match k {
                0 => r.recover_prep(),
                1 => prop_assert_eq!(r.recover_slot(slot), Err(RecoveryError::Withdrawn)),
                2 => prop_assert_eq!(r.recover_done(&[1, slot], 1, 9), Err(RecoveryError::Withdrawn)),
                _ => prop_assert_eq!(r.recovery_result(slot as u32, result),
                        Ok(ResultOutcome::Ignored(ResultIgnored::Withdrawn))),
            }
            prop_assert_eq!(&r, &before);
        }
    }

    /// A 7.2 spectator, whatever the DLM answers, never asks for mounted EX or PR and
    /// is never the first mounter; its first pass asks control EX then (if granted on
    /// a usable LVB) control NL.
    #[test]
    fn linux72_spectator_never_first(statuses in vec(prop_oneof![Just(0i32), Just(-11), Just(-22), Just(-4)], 1..40),
                                     gens in (0..5u32, 0..5u32, 0..5u32), lvb_gen in prop_oneof![0..6u32, Just(u32::MAX)],
                                     bits in any::<bool>()) {
        let (block, start, mount) = gens;
        let mut rec = Recovery::<16>::from_parts(SizePolicy::Fit, RecoverFlags::empty(), mount, start, block,
            &[0; 16], &[0; 16], 0, ControlLvb::zeroed()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut lvb = ControlLvb::zeroed();
        lvb.set_generation(lvb_gen);
        if bits {
            let _ = lvb.set_jid(3, true);
        }
        let mut m = gdlm_core::Profile::Linux72.control_mount(true);
        let mut step = m.start(&mut rec);
        let mut it = statuses.into_iter();
        for _ in 0..200 {
            step = match step {
                MountStep::Lock(c) => {
                    prop_assert!(!(c.lock == LockId::Mounted && matches!(c.mode, DlmMode::Ex | DlmMode::Pr)), "{:?}", c);
                    let Some(st) = it.next() else { break };
                    let l = (c.lock == LockId::Control && c.mode == DlmMode::Ex).then_some(&lvb);
                    m.on_lock_result(&mut rec, st, l).map_err(|e| TestCaseError::fail(e.to_string()))?
                }
                MountStep::Unlock(_) => m.on_unlock_result(0).map_err(|e| TestCaseError::fail(e.to_string()))?,
                MountStep::Sleep { .. } => m.on_sleep_done().map_err(|e| TestCaseError::fail(e.to_string()))?,
                MountStep::Mounted { first } => {
                    prop_assert!(!first);
                    prop_assert!(!rec.flags().contains(RecoverFlags::FIRST_MOUNT));
                    break;
                }
                MountStep::Failed { .. } => break,
            };
            prop_assert_eq!(m.mounted_mode(), DlmMode::Nl);
        }
    }
}

/// A glock that records what `gdlm_ast_apply` does to it.
struct Recorder {
    gl: AstInput,
    calls: Vec<&'static str>,
    ret: Option<u32>,
}

impl gdlm_core::ast::AstGlock for Recorder {
    fn ast_fields(&mut self) -> &mut AstInput {
        &mut self.gl
    }
    fn zero_lvb(&mut self) {
        self.calls.push("zero");
    }
    fn complete(&mut self, ret: u32) {
        self.calls.push("complete");
        self.ret = Some(ret);
    }
    fn free(&mut self) {
        self.calls.push("free");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The callback form against the independent model: the LVB is zeroed first and
    /// at most once, then exactly one of complete/free; nothing at all on a BUG or an
    /// ignored AST.
    #[test]
    fn gdlm_ast_apply_matches_model(a in arb_ast()) {
        for style in [AstStyle::Reference, AstStyle::Modern] {
            let mut r = Recorder { gl: a, calls: vec![], ret: None };
            let got = gdlm_core::ast::gdlm_ast_apply(style, &mut r);
            match model_ast(style, &a) {
                Err(e) => {
                    prop_assert_eq!(got, Err(e));
                    prop_assert!(r.calls.is_empty());
                    prop_assert_eq!(r.gl, a);
                }
                Ok(AstOutcome::Ignored) => {
                    prop_assert_eq!(got, Ok(()));
                    prop_assert!(r.calls.is_empty());
                    prop_assert_eq!(r.gl, a);
                }
                Ok(AstOutcome::Free { lvb_zeroed }) => {
                    let want: &[&str] = if lvb_zeroed { &["zero", "free"] } else { &["free"] };
                    prop_assert_eq!(&r.calls[..], want);
                    prop_assert_eq!(r.gl, a);
                }
                Ok(AstOutcome::Complete { ret, lvb_zeroed, lkid, glf_initial }) => {
                    let want: &[&str] = if lvb_zeroed { &["zero", "complete"] } else { &["complete"] };
                    prop_assert_eq!(&r.calls[..], want);
                    prop_assert_eq!(r.ret, Some(ret));
                    prop_assert_eq!(r.gl, AstInput { lkid, glf_initial, ..a });
                }
            }
        }
    }
}
