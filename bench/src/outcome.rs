//! Run one case on each side and reduce the result to a common, comparable form.

use gdlm_core::ast::AstError;
use gdlm_core::flags::FlagsError;
use gdlm_core::lvb::{ControlLvb, LvbError};
use gdlm_core::name::LockName;
use gdlm_core::recovery::{ControlFinish, ControlUpdate, RecoverFlags};

use crate::cases::{AstCase, ControlCase, FlagsCase, LvbCase, NameCase, StatsCase};
use crate::*;

/// The 25-byte strname, encoded over a name of all `f`s (every byte must be rewritten).
pub fn name_rust(c: &NameCase) -> [u8; 25] {
    let mut out = LockName::new(u32::MAX, u64::MAX).encode();
    rs_lock_name(&c.rust(), &mut out);
    out.to_strname()
}
/// The 25-byte strname from the by-value API.
pub fn name_value_rust(c: &NameCase) -> [u8; 25] {
    rs_lock_name_value(&c.rust()).to_strname()
}
/// The 25-byte strname.
pub fn name_c(c: &NameCase) -> [u8; 25] {
    let mut out = [b'f'; 25];
    c_lock_name(&c.c(), &mut out);
    out
}

/// `Ok(lkf)` or `Err(REF_BUG_*)`.
pub fn flags_rust(c: &FlagsCase) -> Result<u32, i32> {
    let (f, m, ctx) = c.rust();
    match rs_make_flags(f, m, &ctx) {
        Ok(l) => Ok(l.bits()),
        Err(FlagsError::AnyWithMode(_)) => Err(ffi::REF_BUG_ANY),
        Err(FlagsError::Mode(_)) => Err(-1),
        // The reference policy never needs the mode held.
        Err(FlagsError::MissingCurrentMode) => Err(-2),
    }
}
/// `Ok(lkf)` or `Err(REF_BUG_*)`.
pub fn flags_c(c: &FlagsCase) -> Result<u32, i32> {
    let (gl, f, req) = c.c();
    let gls = ffi::Glocks::new(vec![gl]);
    c_make_flags(gls.get(0), f, req)
}

/// The glock after the AST, or the BUG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AstResult {
    /// The kernel would BUG (`REF_BUG_*`); nothing else is compared.
    Bug(i32),
    /// What the glock looks like afterwards.
    Done {
        /// `REF_AST_*`.
        action: i32,
        /// The value for gfs2_glock_complete (0 for free).
        ret: u32,
        /// The LVB (zeroed or not).
        lvb: [u8; 32],
        /// `sb_lkid`.
        lkid: u32,
        /// `GLF_INITIAL`.
        glf_initial: bool,
    },
}

/// Rust AST result.
pub fn ast_rust(c: &AstCase) -> AstResult {
    let mut g = c.rust();
    match rs_gdlm_ast(&mut g) {
        Err(AstError::Demoted) => AstResult::Bug(ffi::REF_BUG_DEMOTED),
        Err(AstError::UnknownStatus(_)) => AstResult::Bug(ffi::REF_BUG_STATUS),
        Err(AstError::AltMode(_)) => AstResult::Bug(ffi::REF_BUG_ALTMODE),
        Err(AstError::NoLock | AstError::NotDead) => AstResult::Bug(-1),
        Ok(()) => AstResult::Done {
            action: g.action,
            ret: if g.action == ffi::REF_AST_COMPLETE {
                g.ret
            } else {
                0
            },
            lvb: g.lvb,
            lkid: g.ast.lkid,
            glf_initial: g.ast.glf_initial,
        },
    }
}

/// C AST result.
pub fn ast_c(c: &AstCase) -> AstResult {
    let mut gls = ffi::Glocks::new(vec![c.c()]);
    let r = c_gdlm_ast(&mut gls, 0);
    if r != ffi::REF_OK {
        return AstResult::Bug(r);
    }
    let g = gls.get(0);
    AstResult::Done {
        action: g.gl_action,
        ret: if g.gl_action == ffi::REF_AST_COMPLETE {
            g.gl_ret
        } else {
            0
        },
        lvb: g.gl_lvb,
        lkid: g.gl_lksb.sb_lkid,
        glf_initial: g.gl_flags & (1 << ffi::GLF_INITIAL) != 0,
    }
}

/// The eight counters after one update.
pub fn stats_rust(c: &StatsCase) -> [i64; 8] {
    let (mut s, pair, sample) = c.rust();
    rs_update_stats(&mut s, pair, sample);
    s.stats
}
/// The eight counters after one update.
pub fn stats_c(c: &StatsCase) -> [i64; 8] {
    let (mut s, index, sample) = c.c();
    c_update_stats(&mut s, index, sample);
    s.stats
}

/// (generation, copy) of the read (`bits` starts as the complement of the LVB, so
/// a byte left uncopied shows).
pub fn lvb_read_rust(c: &LvbCase) -> (u32, [u8; 32]) {
    let mut bits = ControlLvb::from_array(c.bytes.map(|b| !b));
    let gen = rs_lvb_read(&c.bytes, &mut bits);
    (gen, *bits.as_bytes())
}
/// (generation, copy) of the read through the slice path, or its error.
pub fn lvb_read_slice_rust(raw: &[u8]) -> Result<(u32, [u8; 32]), LvbError> {
    let mut bits = ControlLvb::from_array(core::array::from_fn(|i| !raw.get(i).unwrap_or(&0)));
    let gen = rs_lvb_read_slice(raw, &mut bits)?;
    Ok((gen, *bits.as_bytes()))
}
/// The slice read of bytes of any length (`Err(-EINVAL)` unless 32) and `bits` after
/// it, which starts as `0xa5`s so that a refused read that wrote shows.
pub fn lvb_read_checked_rust(raw: &[u8]) -> (Result<u32, i32>, [u8; 32]) {
    let mut bits = ControlLvb::from_array([0xa5; 32]);
    let r = rs_lvb_read_slice(raw, &mut bits).map_err(|_| -gdlm_core::consts::EINVAL);
    (r, *bits.as_bytes())
}
/// The same in C (`ref_control_lvb_read_checked`).
pub fn lvb_read_checked_c(raw: &[u8]) -> (Result<u32, i32>, [u8; 32]) {
    let mut bits = [0xa5; 32];
    let r = c_lvb_read_checked(raw, &mut bits);
    (r, bits)
}
/// (generation, copy) of the read.
pub fn lvb_read_c(c: &LvbCase) -> (u32, [u8; 32]) {
    let ls = ffi::RefLvbLs {
        ls_control_lvb: c.bytes,
    };
    let mut bits = [0u8; 32];
    let gen = c_lvb_read(&ls, &mut bits);
    (gen, bits)
}

/// The LVB written (the destination starts as the complement of the bits, so a
/// byte left unwritten shows).
pub fn lvb_write_rust(c: &LvbCase) -> [u8; 32] {
    let mut dst = ControlLvb::from_array(c.bytes.map(|b| !b));
    rs_lvb_write(&mut dst, c.gen, &ControlLvb::from_array(c.bytes));
    *dst.as_bytes()
}
/// The LVB written.
pub fn lvb_write_c(c: &LvbCase) -> [u8; 32] {
    let mut ls = ffi::RefLvbLs {
        ls_control_lvb: c.bytes.map(|b| !b),
    };
    c_lvb_write(&mut ls, c.gen, &c.bytes);
    ls.ls_control_lvb
}

/// Everything one control step decides and changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlResult {
    /// `ffi::REF_CONTROL_*`.
    pub exit: i32,
    /// The generation read (not reported on block1).
    pub lvb_gen: Option<u32>,
    /// The NL conversion carries the LVB.
    pub write_lvb: bool,
    /// The NL conversion's flags.
    pub nl_flags: u32,
    /// The jids handed to gfs2_recover_set, ascending.
    pub recover: Vec<u32>,
    /// `ls_control_lvb` afterwards.
    pub control_lvb: [u8; 32],
    /// `ls_lvb_bits` afterwards.
    pub lvb_bits: [u8; 32],
    /// `ls_recover_submit[..size]` afterwards.
    pub submit: Vec<u32>,
    /// `ls_recover_result[..size]` afterwards.
    pub result: Vec<u32>,
    /// `DFL_BLOCK_LOCKS` afterwards.
    pub block_locks: bool,
}

/// Rust control step.
pub fn control_rust(c: &ControlCase) -> ControlResult {
    let mut s = c.rust();
    let (up, fin) = rs_control_step(&mut s, &c.ticket);
    let (exit, lvb_gen, call) = match (up, fin) {
        (ControlUpdate::Stale(call), _) => (ffi::REF_CONTROL_BLOCK1, None, call),
        (ControlUpdate::Convert { call, lvb_gen }, Some(f)) => (
            match f {
                ControlFinish::Recover(_) => ffi::REF_CONTROL_RECOVER_SET,
                ControlFinish::Unblocked { .. } => ffi::REF_CONTROL_DONE,
                ControlFinish::StillBlocked => ffi::REF_CONTROL_BLOCK2,
            },
            Some(lvb_gen),
            call,
        ),
        (ControlUpdate::Convert { .. }, None) => unreachable!("rs_control_step finishes a Convert"),
    };
    let recover = match fin {
        Some(ControlFinish::Recover(j)) => j.iter().collect(),
        _ => Vec::new(),
    };
    ControlResult {
        exit,
        lvb_gen,
        write_lvb: call.lvb.is_some(),
        nl_flags: call.flags.bits(),
        recover,
        control_lvb: *s.control_lvb.as_bytes(),
        lvb_bits: *s.rec.lvb_bits().as_bytes(),
        submit: s.rec.submit().to_vec(),
        result: s.rec.result().to_vec(),
        block_locks: s.rec.flags().contains(RecoverFlags::BLOCK_LOCKS),
    }
}

/// C control step.
pub fn control_c(c: &ControlCase) -> ControlResult {
    let mut ls = c.c();
    let mut out = ffi::RefControlOut::default();
    c_control_step(&mut ls, &c.ticket, &mut out);
    let size = ls.ls_recover_size as usize;
    ControlResult {
        exit: out.exit,
        lvb_gen: (out.exit != ffi::REF_CONTROL_BLOCK1).then_some(out.lvb_gen),
        write_lvb: out.write_lvb != 0,
        nl_flags: out.nl_flags,
        recover: out.recover_jids[..out.recover_count as usize].to_vec(),
        control_lvb: ls.ls_control_lvb,
        lvb_bits: ls.ls_lvb_bits,
        submit: ls.ls_recover_submit[..size].to_vec(),
        result: ls.ls_recover_result[..size].to_vec(),
        block_locks: ls.ls_recover_flags & (1 << ffi::DFL_BLOCK_LOCKS) != 0,
    }
}
