//! Golden vectors computed from C transcriptions of the reference (`tests/vectors/`,
//! `SCHEMA.md`) and of Linux 7.2.13 (`tests/vectors72/`, `SCHEMA72.md`). Every case of
//! every file is checked under the [`Profile`] its `"policy"` names (none: the
//! reference).
//!
//! By default both directories are checked; `GDLM_VECTORS=<dir>` checks one other
//! directory (e.g. `../shared/vectors72`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use gdlm_core::ast::{self, AstInput, AstOutcome, PutLock, PutLockInput, UnlockDone};
use gdlm_core::consts::*;
use gdlm_core::flags::{self, LmFlags, LockGlock, RequestStamp};
use gdlm_core::lvb::{control_lvb_read, control_lvb_write, ControlLvb};
use gdlm_core::mode::{self, BastMode, DlmMode, LmState};
use gdlm_core::mount::{
    self as mnt, FirstDone, FirstDoneStep, MountFailure, MountOptions, MountStep, OpsMode,
    RetryReason, TableError, SPECTATOR_WAIT_MS,
};
use gdlm_core::name::LockName;
use gdlm_core::recovery::{
    self, ControlBegin, ControlFinish, ControlUpdate, ControlWork, LockId, RecoverFlags, Recovery,
    ResultIgnored, ResultOutcome, SyncLock, UnmountBegin,
};
use gdlm_core::stats::{LkStats, StatPair};
use gdlm_core::{DlmAttempt, DlmRetry, Profile};
use serde_json::{json, Value};

type R = Result<(), String>;
type Rec = Recovery<192>;

fn dirs() -> Vec<PathBuf> {
    match std::env::var_os("GDLM_VECTORS") {
        Some(d) => vec![PathBuf::from(d)],
        None => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
            vec![root.join("vectors"), root.join("vectors72")]
        }
    }
}

// ---- JSON helpers -------------------------------------------------------------

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}
fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an i64: {v}"))
}
fn b(v: &Value) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("not a bool: {v}"))
}
/// A 7.2-only boolean input: absent in the reference vectors.
fn b_or(v: &Value, default: bool) -> bool {
    if v.is_null() {
        default
    } else {
        b(v)
    }
}
/// Compare every key of `want` with `got` (7.2 vectors carry more keys than v3.12
/// ones; each set is compared whole).
fn eq_keys(what: &str, got: &Value, want: &Value) -> R {
    let w = want
        .as_object()
        .ok_or(format!("{what}: out is not an object"))?;
    for (k, v) in w {
        match got.get(k) {
            Some(g) if g == v => {}
            Some(g) => return Err(format!("{what}.{k}: got {g}, want {v}")),
            None => return Err(format!("{what}: no value computed for {k}")),
        }
    }
    Ok(())
}

/// The `again:` loop around a 7.2 DLM call, driven by the vector's answers:
/// (return, DLM calls made, -EBUSY sleeps).
fn dlm_loop(p: Profile, inp: &Value) -> Result<(i32, usize, usize), String> {
    let answers = i32s(&inp["dlm_returns"])?;
    let released_at = inp["ls_released_at"].as_u64().map(|k| k as usize);
    let (mut calls, mut sleeps) = (0usize, 0usize);
    for attempt in 0.. {
        if attempt > answers.len() + 1 {
            return Err("the loop did not end within the answers given".into());
        }
        let released = released_at.is_some_and(|k| attempt >= k);
        let ret = match p.dlm_attempt(released) {
            DlmAttempt::Released(e) => e,
            DlmAttempt::Call => {
                let r = *answers.get(calls).ok_or("more DLM calls than answers")?;
                calls += 1;
                r
            }
        };
        match p.after_dlm_call(ret) {
            DlmRetry::Done(r) => return Ok((r, calls, sleeps)),
            DlmRetry::Sleep { ms } => {
                eq("busy sleep", ms, 20)?;
                sleeps += 1;
            }
        }
    }
    unreachable!()
}
fn s64(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an s64 string: {v}"))
}
fn u64s(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a u64 string: {v}"))
}
fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap_or_else(|| panic!("not hex: {v}"));
    (0..s.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(&s[k..k + 2], 16).expect("hex digit"))
        .collect()
}
fn to_hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}
fn lvb(v: &Value) -> ControlLvb {
    ControlLvb::from_bytes(&hex(v)).expect("32-byte lvb")
}
fn u32s(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| u(x) as u32)
        .collect()
}
fn i32s(v: &Value) -> Result<Vec<i32>, String> {
    Ok(v.as_array()
        .ok_or("not an array")?
        .iter()
        .map(|x| i(x) as i32)
        .collect())
}
fn eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> R {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}
fn state_of(v: &Value) -> u32 {
    u(v) as u32
}
fn lm(v: &Value) -> LmState {
    LmState::try_from(state_of(v)).expect("state 0..3")
}

fn call_json(c: &SyncLock) -> Value {
    json!({"lock": lock_str(c.lock), "op": "lock", "mode": c.mode.raw(), "flags": c.flags.bits()})
}
fn unlock_json(l: LockId) -> Value {
    json!({"lock": lock_str(l), "op": "unlock"})
}
fn lock_str(l: LockId) -> &'static str {
    match l {
        LockId::Control => "control",
        LockId::Mounted => "mounted",
    }
}

fn rec_from(p: Profile, st: &Value, lvb_bits: ControlLvb) -> Rec {
    Recovery::from_parts(
        p.size_policy(),
        RecoverFlags::from_bits_retain(u(&st["flags"]) as u32),
        u(&st["recover_mount"]) as u32,
        u(&st["recover_start"]) as u32,
        u(&st["recover_block"]) as u32,
        &u32s(&st["submit"]),
        &u32s(&st["result"]),
        i(&st["jid"]) as i32,
        lvb_bits,
    )
    .expect("state fits capacity")
    .with_withdraw_guard(p.withdraw_guard())
}

/// `rec_from`, withdrawn when the case says so (7.2's `withdrawn` input).
fn rec_in(p: Profile, inp: &Value) -> Rec {
    let mut r = rec_from(p, &inp["state"], ControlLvb::zeroed());
    if b_or(&inp["withdrawn"], false) {
        r.withdraw();
    }
    r
}

/// Rebuild `r` with other generations (what a concurrent callback would have done).
fn with_gens(r: &Rec, block: u32, start: u32) -> Rec {
    Recovery::from_parts(
        r.policy(),
        r.flags(),
        r.recover_mount(),
        start,
        block,
        r.submit(),
        r.result(),
        r.jid(),
        *r.lvb_bits(),
    )
    .expect("same size")
    .with_withdraw_guard(r.withdraw_guard())
}

fn state_json(r: &Rec) -> Value {
    json!({
        "flags": r.flags().bits(),
        "recover_mount": r.recover_mount(),
        "recover_start": r.recover_start(),
        "recover_block": r.recover_block(),
        "recover_size": r.recover_size(),
        "submit": r.submit(),
        "result": r.result(),
        "jid": r.jid(),
    })
}

fn work_str(w: Option<ControlWork>) -> &'static str {
    match w {
        Some(ControlWork::Now) => "now",
        Some(ControlWork::AfterHz) => "hz",
        None => "none",
    }
}

fn is_short(e: &recovery::RecoveryError) -> bool {
    use recovery::RecoveryError::*;
    matches!(
        e,
        ShortSize { .. } | SlotBeyondCapacity { .. } | JidBeyondCapacity { .. }
    )
}

// ---- per-function checks ------------------------------------------------------

fn constants(_p: Profile, inp: &Value, out: &Value) -> R {
    let name = inp["name"].as_str().unwrap_or_default();
    let v: i64 = match name {
        "DLM_LOCK_IV" => DLM_LOCK_IV.into(),
        "DLM_LOCK_NL" => DLM_LOCK_NL.into(),
        "DLM_LOCK_CR" => DLM_LOCK_CR.into(),
        "DLM_LOCK_CW" => DLM_LOCK_CW.into(),
        "DLM_LOCK_PR" => DLM_LOCK_PR.into(),
        "DLM_LOCK_PW" => DLM_LOCK_PW.into(),
        "DLM_LOCK_EX" => DLM_LOCK_EX.into(),
        "DLM_LKF_NOQUEUE" => DLM_LKF_NOQUEUE.into(),
        "DLM_LKF_CANCEL" => DLM_LKF_CANCEL.into(),
        "DLM_LKF_CONVERT" => DLM_LKF_CONVERT.into(),
        "DLM_LKF_VALBLK" => DLM_LKF_VALBLK.into(),
        "DLM_LKF_QUECVT" => DLM_LKF_QUECVT.into(),
        "DLM_LKF_IVVALBLK" => DLM_LKF_IVVALBLK.into(),
        "DLM_LKF_CONVDEADLK" => DLM_LKF_CONVDEADLK.into(),
        "DLM_LKF_PERSISTENT" => DLM_LKF_PERSISTENT.into(),
        "DLM_LKF_NODLCKWT" => DLM_LKF_NODLCKWT.into(),
        "DLM_LKF_NODLCKBLK" => DLM_LKF_NODLCKBLK.into(),
        "DLM_LKF_EXPEDITE" => DLM_LKF_EXPEDITE.into(),
        "DLM_LKF_NOQUEUEBAST" => DLM_LKF_NOQUEUEBAST.into(),
        "DLM_LKF_HEADQUE" => DLM_LKF_HEADQUE.into(),
        "DLM_LKF_NOORDER" => DLM_LKF_NOORDER.into(),
        "DLM_LKF_ORPHAN" => DLM_LKF_ORPHAN.into(),
        "DLM_LKF_ALTPR" => DLM_LKF_ALTPR.into(),
        "DLM_LKF_ALTCW" => DLM_LKF_ALTCW.into(),
        "DLM_LKF_FORCEUNLOCK" => DLM_LKF_FORCEUNLOCK.into(),
        "DLM_LKF_TIMEOUT" => DLM_LKF_TIMEOUT.into(),
        "DLM_ECANCEL" => DLM_ECANCEL.into(),
        "DLM_EUNLOCK" => DLM_EUNLOCK.into(),
        "DLM_SBF_DEMOTED" => DLM_SBF_DEMOTED.into(),
        "DLM_SBF_VALNOTVALID" => DLM_SBF_VALNOTVALID.into(),
        "DLM_SBF_ALTMODE" => DLM_SBF_ALTMODE.into(),
        "O_EAGAIN" => EAGAIN.into(),
        "O_EINVAL" => EINVAL.into(),
        "O_EDEADLK" => EDEADLK.into(),
        "O_ETIMEDOUT" => ETIMEDOUT.into(),
        "LM_TYPE_NONDISK" => LM_TYPE_NONDISK.into(),
        "LM_ST_UNLOCKED" => LM_ST_UNLOCKED.into(),
        "LM_ST_EXCLUSIVE" => LM_ST_EXCLUSIVE.into(),
        "LM_ST_DEFERRED" => LM_ST_DEFERRED.into(),
        "LM_ST_SHARED" => LM_ST_SHARED.into(),
        "LM_FLAG_TRY" => LM_FLAG_TRY.into(),
        "LM_FLAG_TRY_1CB" => LM_FLAG_TRY_1CB.into(),
        "LM_FLAG_NOEXP" => LM_FLAG_NOEXP.into(),
        "LM_FLAG_ANY" => LM_FLAG_ANY.into(),
        "LM_FLAG_PRIORITY" => LM_FLAG_PRIORITY.into(),
        "LM_OUT_ST_MASK" => LM_OUT_ST_MASK.into(),
        "LM_OUT_ERROR" => LM_OUT_ERROR.into(),
        "LM_OUT_CANCELED" => LM_OUT_CANCELED.into(),
        "LM_RD_GAVEUP" => LM_RD_GAVEUP.into(),
        "LM_RD_SUCCESS" => LM_RD_SUCCESS.into(),
        "GFS2_CONTROL_LOCK" => GFS2_CONTROL_LOCK.into(),
        "GFS2_MOUNTED_LOCK" => GFS2_MOUNTED_LOCK.into(),
        "GDLM_STRNAME_BYTES" => GDLM_STRNAME_BYTES as i64,
        "GDLM_LVB_SIZE" => GDLM_LVB_SIZE as i64,
        "JID_BITMAP_OFFSET" => JID_BITMAP_OFFSET as i64,
        "RECOVER_SIZE_INC" => RECOVER_SIZE_INC.into(),
        "GFS2_LKS_SRTT" => GFS2_LKS_SRTT as i64,
        "GFS2_LKS_SRTTVAR" => GFS2_LKS_SRTTVAR as i64,
        "GFS2_LKS_SRTTB" => GFS2_LKS_SRTTB as i64,
        "GFS2_LKS_SRTTVARB" => GFS2_LKS_SRTTVARB as i64,
        "GFS2_LKS_SIRT" => GFS2_LKS_SIRT as i64,
        "GFS2_LKS_SIRTVAR" => GFS2_LKS_SIRTVAR as i64,
        "GFS2_LKS_DCOUNT" => GFS2_LKS_DCOUNT as i64,
        "GFS2_LKS_QCOUNT" => GFS2_LKS_QCOUNT as i64,
        "DFL_BLOCK_LOCKS" => DFL_BLOCK_LOCKS.into(),
        "DFL_NO_DLM_OPS" => DFL_NO_DLM_OPS.into(),
        "DFL_FIRST_MOUNT" => DFL_FIRST_MOUNT.into(),
        "DFL_FIRST_MOUNT_DONE" => DFL_FIRST_MOUNT_DONE.into(),
        "DFL_MOUNT_DONE" => DFL_MOUNT_DONE.into(),
        "DFL_UNMOUNT" => DFL_UNMOUNT.into(),
        "DFL_DLM_RECOVERY" => DFL_DLM_RECOVERY.into(),
        // Linux 7.2.13 (vectors72)
        "LM_FLAG_RECOVER" => LM_FLAG_RECOVER.into(),
        "LM_FLAG_NODE_SCOPE" => LM_FLAG_NODE_SCOPE.into(),
        "GL_ASYNC" => GL_ASYNC.into(),
        "GL_EXACT" => GL_EXACT.into(),
        "GL_SKIP" => GL_SKIP.into(),
        "GL_NOPID" => GL_NOPID.into(),
        "GL_NOCACHE" => GL_NOCACHE.into(),
        "GL_NOBLOCK" => GL_NOBLOCK.into(),
        "LM_OUT_TRY_AGAIN" => LM_OUT_TRY_AGAIN.into(),
        "LM_OUT_DEADLOCK" => LM_OUT_DEADLOCK.into(),
        "DLM_RELEASE_NO_LOCKS" => DLM_RELEASE_NO_LOCKS.into(),
        "DLM_RELEASE_UNUSED" => DLM_RELEASE_UNUSED.into(),
        "DLM_RELEASE_NORMAL" => DLM_RELEASE_NORMAL.into(),
        "DLM_RELEASE_NO_EVENT" => DLM_RELEASE_NO_EVENT.into(),
        "DLM_RELEASE_RECOVER" => DLM_RELEASE_RECOVER.into(),
        "DLM_LSFL_NEWEXCL" => DLM_LSFL_NEWEXCL.into(),
        "DLM_LSFL_TIMEWARN" => DLM_LSFL_TIMEWARN.into(),
        "DLM_LSFL_FS" => DLM_LSFL_FS.into(),
        "O_EINTR" => EINTR.into(),
        "O_EBUSY" => EBUSY.into(),
        "O_ENODEV" => ENODEV.into(),
        "O_ENOMEM" => ENOMEM.into(),
        "GLF_INITIAL" => GLF_INITIAL.into(),
        "GLF_BLOCKING" => GLF_BLOCKING.into(),
        "SDF_WITHDRAWN" => SDF_WITHDRAWN.into(),
        "SDF_NOJOURNALID" => SDF_NOJOURNALID.into(),
        "SDF_SKIP_DLM_UNLOCK" => SDF_SKIP_DLM_UNLOCK.into(),
        "LM_TYPE_RESERVED" => LM_TYPE_RESERVED.into(),
        "GFS2_LOCKNAME_LEN" => GFS2_LOCKNAME_LEN as i64,
        other => return Err(format!("no constant {other}")),
    };
    eq(name, v, i(&out["value"]))
}

fn stats_arr(v: &Value) -> LkStats {
    let a = v.as_array().expect("8 stats");
    let mut s = LkStats::new();
    for (k, x) in a.iter().enumerate() {
        s.stats[k] = s64(x);
    }
    s
}
fn stats_json(s: &LkStats) -> Value {
    Value::Array(
        s.stats
            .iter()
            .map(|x| Value::String(x.to_string()))
            .collect(),
    )
}

fn update_stats(_p: Profile, inp: &Value, out: &Value) -> R {
    let mut s = stats_arr(&inp["stats"]);
    let pair = StatPair::from_index(u(&inp["index"]) as usize).ok_or("bad index")?;
    s.update(pair, s64(&inp["sample"]));
    eq("stats", stats_json(&s), out["stats"].clone())
}

fn stats_sequence(_p: Profile, inp: &Value, out: &Value) -> R {
    let mut s = stats_arr(&inp["stats"]);
    let pair = StatPair::from_index(u(&inp["index"]) as usize).ok_or("bad index")?;
    let mut trace = vec![];
    for x in inp["samples"].as_array().ok_or("samples")? {
        s.update(pair, s64(x));
        trace.push(json!([s.mean(pair).to_string(), s.var(pair).to_string()]));
    }
    eq("trace", Value::Array(trace), out["trace"].clone())?;
    eq("stats", stats_json(&s), out["stats"].clone())
}

fn stats_index(_p: Profile, inp: &Value, out: &Value) -> R {
    let idx = match inp["kind"].as_str() {
        Some("reply") => StatPair::reply(b(&inp["blocking"])).index(),
        Some("request") => StatPair::Sirt.index(),
        _ => return Err("kind".into()),
    };
    eq("index", idx as u64, u(&out["index"]))
}

fn make_mode(_p: Profile, inp: &Value, out: &Value) -> R {
    match mode::make_mode(u(&inp["lmstate"]) as u32) {
        Ok(m) => {
            eq("bug", false, b(&out["bug"]))?;
            eq("mode", m.raw() as i64, i(&out["mode"]))
        }
        Err(_) => eq("bug", true, b(&out["bug"])),
    }
}

fn glock_of(inp: &Value) -> LockGlock {
    LockGlock {
        // v3.12 vectors have no gl_state (the reference's gdlm_lock does not read it).
        gl_state: if inp["gl_state"].is_null() {
            LmState::Unlocked
        } else {
            lm(&inp["gl_state"])
        },
        has_lvb: b(&inp["has_lvb"]),
        lkid: if inp["lkid"].is_null() {
            u32::from(b(&inp["lkid_nonzero"]))
        } else {
            u(&inp["lkid"]) as u32
        },
        glf_initial: b_or(&inp["glf_initial"], false),
        glf_blocking: b(&inp["blocking"]),
    }
}

fn make_flags(p: Profile, inp: &Value, out: &Value) -> R {
    let req = DlmMode::try_from(i(&inp["req"]) as i32).map_err(|e| e.to_string())?;
    let mut ctx = p.lock_context(&glock_of(inp));
    // These vectors give make_flags its inputs directly, not the held mode.
    ctx.cur = None;
    let r = flags::make_flags(
        &p.flag_policy(),
        LmFlags::from_bits_retain(u(&inp["gfs_flags"]) as u32),
        req,
        &ctx,
    );
    match r {
        Ok(f) => {
            eq("bug", false, b(&out["bug"]))?;
            eq("lkf", u64::from(f.bits()), u(&out["lkf"]))
        }
        Err(_) => eq("bug", true, b(&out["bug"])),
    }
}

fn bast(p: Profile, inp: &Value, out: &Value) -> R {
    let got = match p.bast(
        BastMode::Mode(i(&inp["mode"]) as i32),
        b_or(&inp["dead"], false),
    ) {
        Ok(Some(s)) => json!({"bug": false, "state": s.raw(), "ignored": false}),
        Ok(None) => json!({"bug": false, "state": null, "ignored": true}),
        Err(_) => json!({"bug": true, "state": null, "ignored": false}),
    };
    eq_keys("bast", &got, out)
}

fn lock_name(_p: Profile, inp: &Value, out: &Value) -> R {
    let n = LockName::new(u(&inp["type"]) as u32, u64s(&inp["number"]));
    let e = n.encode();
    eq("name", e.as_str(), out["name"].as_str().unwrap_or_default())?;
    eq("decode", e.decode(), Ok(n))?;
    if out["equals_sync_format"].as_bool() == Some(true) {
        let sync = format!("{:8x}{:16x}", n.ln_type, n.ln_number as u32);
        eq("sync format", e.as_str(), sync.as_str())?;
    }
    Ok(())
}

fn sync_lock_name(_p: Profile, inp: &Value, out: &Value) -> R {
    let e = LockName::nondisk(u(&inp["num"]) as u32).encode();
    eq("name", e.as_str(), out["name"].as_str().unwrap_or_default())
}

fn gdlm_lock(p: Profile, inp: &Value, out: &Value) -> R {
    let name = LockName::new(u(&inp["type"]) as u32, u64s(&inp["number"]));
    let r = p.gdlm_lock(
        &name,
        u(&inp["req_state"]) as u32,
        LmFlags::from_bits_retain(u(&inp["gfs_flags"]) as u32),
        &glock_of(inp),
    );
    let got = match r {
        Err(_) => json!({"bug": true, "req": null, "lkf": null, "name": null,
            "update_request_times": null, "dstamp_set": null, "cur": null, "blocking": null,
            "glf_blocking_after": null, "gl_req_after": null, "ret": null, "dlm_calls": null,
            "busy_sleeps": null}),
        Ok(l) => {
            let req = l.request;
            let mut g = json!({"bug": false, "req": req.mode.raw(), "lkf": req.flags.bits(),
                "name": to_hex(&req.strname()),
                "update_request_times": req.stamp == RequestStamp::UpdateRequestTimes,
                "dstamp_set": req.stamp == RequestStamp::SetDstamp,
                "cur": l.cur.raw(), "blocking": l.blocking,
                "glf_blocking_after": l.glf_blocking_after,
                "gl_req_after": l.gl_req_after.map(|s| s.raw())});
            if p == Profile::Linux72 {
                let (ret, calls, sleeps) = dlm_loop(p, inp)?;
                g["ret"] = json!(ret);
                g["dlm_calls"] = json!(calls);
                g["busy_sleeps"] = json!(sleeps);
            }
            g
        }
    };
    eq_keys("gdlm_lock", &got, out)
}

fn put_lock(p: Profile, inp: &Value, out: &Value) -> R {
    let r = p.put_lock(
        &PutLockInput {
            lkid: u(&inp["lkid"]) as u32,
            has_lvb: b(&inp["has_lvb"]),
            gl_state: lm(&inp["gl_state"]),
            skip_dlm_unlock: b(&inp["skip_dlm_unlock"]),
        },
        b_or(&inp["glf_initial"], false),
        b_or(&inp["dead"], false),
    );
    let free = |action: &str, urt: bool, free_fn: &str| {
        json!({"action": action, "update_request_times": urt, "unlock_flags": null,
            "unlock_lkid": null, "ret": null, "dlm_calls": 0, "busy_sleeps": 0,
            "free_fn": free_fn, "error_logged": false})
    };
    let got = match r {
        Err(ast::AstError::NotDead) => json!({"action": "bug", "update_request_times": null,
            "unlock_flags": null, "unlock_lkid": null, "ret": null, "dlm_calls": null,
            "busy_sleeps": null, "free_fn": null, "error_logged": null}),
        Err(e) => return Err(format!("unexpected {e}")),
        Ok(pl @ PutLock::Free) => free("free", pl.updates_request_times(), "gfs2_glock_free"),
        Ok(pl @ PutLock::FreeSkipUnlock) => free(
            "free_skip_unlock",
            pl.updates_request_times(),
            // 7.2:L350-353 frees later; the reference frees at once.
            if p == Profile::Linux72 {
                "gfs2_glock_free_later"
            } else {
                "gfs2_glock_free"
            },
        ),
        Ok(pl @ PutLock::Unlock { lkid, flags }) => {
            let mut g = json!({"action": "dlm_unlock",
                "update_request_times": pl.updates_request_times(),
                "unlock_flags": flags.bits(), "unlock_lkid": lkid});
            if p == Profile::Linux72 {
                let (ret, calls, sleeps) = dlm_loop(p, inp)?;
                let (action, free_fn, logged) = match p.put_lock_unlock_result(ret) {
                    UnlockDone::AwaitAst => ("dlm_unlock", Value::Null, false),
                    UnlockDone::Free => ("free_enodev", json!("gfs2_glock_free"), false),
                    UnlockDone::Logged(_) => ("dlm_unlock", Value::Null, true),
                };
                g["action"] = json!(action);
                g["ret"] = json!(ret);
                g["dlm_calls"] = json!(calls);
                g["busy_sleeps"] = json!(sleeps);
                g["free_fn"] = free_fn;
                g["error_logged"] = json!(logged);
            }
            g
        }
    };
    eq_keys("put_lock", &got, out)
}

fn cancel(p: Profile, inp: &Value, out: &Value) -> R {
    let got = match p.cancel(u(&inp["lkid"]) as u32, b(&inp["ls_released"])) {
        Ok(Some(c)) => json!({"dlm_unlock_called": true, "unlock_lkid": c.lkid,
            "unlock_flags": c.flags.bits()}),
        Ok(None) => json!({"dlm_unlock_called": false, "unlock_lkid": null, "unlock_flags": null}),
        Err(e) => return Err(format!("cancel refused: {e}")),
    };
    eq_keys("cancel", &got, out)
}

fn sync_lock(p: Profile, inp: &Value, out: &Value) -> R {
    let lock = match inp["lock"].as_str() {
        Some("control") => LockId::Control,
        Some("mounted") => LockId::Mounted,
        other => return Err(format!("lock {other:?}")),
    };
    let (call_ret, dlm_called) = match p.dlm_attempt(b(&inp["ls_released"])) {
        DlmAttempt::Released(e) => (e, false),
        DlmAttempt::Call => (i(&inp["call_ret"]) as i32, true),
    };
    let sb = i(&inp["sb_status"]) as i32;
    let (o, name) = match inp["op"].as_str() {
        Some("lock") => (
            recovery::sync_lock_outcome(call_ret, sb),
            json!(lock.name().as_str()),
        ),
        Some("unlock") => (recovery::sync_unlock_outcome(call_ret, sb), Value::Null),
        other => return Err(format!("op {other:?}")),
    };
    let got = json!({"dlm_called": dlm_called, "waited": o.waited, "ret": o.ret,
        "logged": o.logged, "name": name});
    eq_keys("sync_lock", &got, out)
}

fn ast_case(p: Profile, inp: &Value, out: &Value) -> R {
    let a = AstInput {
        gl_state: lm(&inp["gl_state"]),
        gl_req: lm(&inp["gl_req"]),
        sb_status: i(&inp["sb_status"]) as i32,
        sb_flags: u(&inp["sb_flags"]) as u8,
        has_lvb: b(&inp["has_lvb"]),
        glf_initial: b(&inp["glf_initial"]),
        lkid: u(&inp["lkid"]) as u32,
        dead: b_or(&inp["dead"], false),
    };
    let got = match ast::gdlm_ast(p.ast_style(), &a) {
        Ok(AstOutcome::Complete {
            ret,
            lvb_zeroed,
            lkid,
            glf_initial,
        }) => json!({
            "action": "complete", "bug_reason": null, "ret": ret, "lvb_zeroed": lvb_zeroed,
            "lkid_after": lkid, "glf_initial_after": glf_initial}),
        Ok(AstOutcome::Free { lvb_zeroed }) => json!({
            "action": "free", "bug_reason": null, "ret": null, "lvb_zeroed": lvb_zeroed,
            "lkid_after": a.lkid, "glf_initial_after": a.glf_initial}),
        Ok(AstOutcome::Ignored) => json!({
            "action": "ignored", "bug_reason": null, "ret": null, "lvb_zeroed": false,
            "lkid_after": a.lkid, "glf_initial_after": a.glf_initial}),
        Err(e) => {
            let reason = match e {
                ast::AstError::Demoted => "demoted",
                ast::AstError::UnknownStatus(_) => "status",
                ast::AstError::AltMode(_) => "altmode",
                ast::AstError::NoLock => "nolock",
                ast::AstError::NotDead => "notdead",
            };
            json!({"action": "bug", "bug_reason": reason, "ret": null, "lvb_zeroed": null,
                   "lkid_after": null, "glf_initial_after": null})
        }
    };
    eq("ast", got, out.clone())
}

fn lvb_read(_p: Profile, inp: &Value, out: &Value) -> R {
    let (gen, bits) = control_lvb_read(&lvb(&inp["lvb"]));
    eq("lvb_gen", u64::from(gen), u(&out["lvb_gen"]))?;
    eq("lvb_bits", bits, lvb(&out["lvb_bits"]))
}

fn lvb_write(_p: Profile, inp: &Value, out: &Value) -> R {
    let w = control_lvb_write(u(&inp["lvb_gen"]) as u32, &lvb(&inp["lvb_bits"]));
    eq("lvb", w, lvb(&out["lvb"]))
}

fn jid_bits(_p: Profile, inp: &Value, out: &Value) -> R {
    let l = lvb(&inp["lvb"]);
    eq("all_clear", l.all_jid_bits_clear(), b(&out["all_clear"]))?;
    eq(
        "jids",
        l.jids().iter().collect::<Vec<_>>(),
        u32s(&out["jids"]),
    )
}

fn set_recover_size(p: Profile, inp: &Value, out: &Value) -> R {
    let slots: Vec<i32> = i32s(&inp["slots"])?;
    let n = recovery::set_recover_size(p.size_policy(), u(&inp["old_size"]) as u32, &slots);
    eq("new_size", u64::from(n), u(&out["new_size"]))
}

fn recover_prep(p: Profile, inp: &Value, out: &Value) -> R {
    let mut r = rec_in(p, inp);
    r.recover_prep();
    let got = json!({"state": state_json(&r), "ignored": r.ignores_callbacks()});
    eq_keys("recover_prep", &got, out)
}

fn slot_note(r: &mut Rec, slot: i32) -> Result<&'static str, String> {
    Ok(match r.recover_slot(slot) {
        Ok(_) => "recorded",
        Err(recovery::RecoveryError::Withdrawn) => "withdrawn",
        Err(e) if is_short(&e) => "short_size",
        Err(e) => return Err(format!("unexpected {e}")),
    })
}

fn recover_slot(p: Profile, inp: &Value, out: &Value) -> R {
    let mut r = rec_in(p, inp);
    let outcome = slot_note(&mut r, i(&inp["slot"]) as i32)?;
    eq(
        "outcome",
        outcome,
        out["outcome"].as_str().unwrap_or_default(),
    )?;
    eq("state", state_json(&r), out["state"].clone())
}

/// recover_done's `queued` note ("withdrawn" when 7.2 ignores it).
fn done_note(r: &mut Rec, slots: &[i32], our_slot: i32, gen: u32) -> Result<&'static str, String> {
    match r.recover_done(slots, our_slot, gen) {
        Ok(w) => Ok(work_str(w)),
        Err(recovery::RecoveryError::Withdrawn) => Ok("withdrawn"),
        Err(e) => Err(e.to_string()),
    }
}

fn recover_done(p: Profile, inp: &Value, out: &Value) -> R {
    let mut r = rec_in(p, inp);
    let slots: Vec<i32> = i32s(&inp["slots"])?;
    let note = done_note(
        &mut r,
        &slots,
        i(&inp["our_slot"]) as i32,
        u(&inp["generation"]) as u32,
    )?;
    let ignored = note == "withdrawn";
    let got = json!({
        "queued": if ignored { "none" } else { note },
        "state": state_json(&r),
        "ignored": ignored,
    });
    eq_keys("recover_done", &got, out)
}

fn result_note(r: &mut Rec, jid: u32, result: u32) -> Result<(&'static str, &'static str), String> {
    Ok(match r.recovery_result(jid, result) {
        Ok(ResultOutcome::Recorded(w)) => ("recorded", work_str(w)),
        Ok(ResultOutcome::Ignored(ResultIgnored::NoDlmOps)) => ("no_dlm_ops", "none"),
        Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid)) => ("own_jid", "none"),
        Ok(ResultOutcome::Ignored(ResultIgnored::FirstMount)) => ("first_mount", "none"),
        Ok(ResultOutcome::Ignored(ResultIgnored::Withdrawn)) => ("withdrawn", "none"),
        Err(e) if is_short(&e) => ("short_size", "none"),
        Err(e) => return Err(format!("unexpected {e}")),
    })
}

fn recovery_result(p: Profile, inp: &Value, out: &Value) -> R {
    let mut r = rec_in(p, inp);
    let (o, q) = result_note(&mut r, u(&inp["jid"]) as u32, u(&inp["result"]) as u32)?;
    eq("outcome", o, out["outcome"].as_str().unwrap_or_default())?;
    eq("queued", q, out["queued"].as_str().unwrap_or_default())?;
    eq("state", state_json(&r), out["state"].clone())
}

fn control_func(p: Profile, inp: &Value, out: &Value) -> R {
    let size = u(&inp["recover_size"]) as usize;
    let mut flags = RecoverFlags::BLOCK_LOCKS;
    if b(&inp["mount_done"]) {
        flags |= RecoverFlags::MOUNT_DONE;
    }
    if b(&inp["first_mount"]) {
        flags |= RecoverFlags::FIRST_MOUNT;
    }
    let submit = u32s(&inp["submit"]);
    let result = u32s(&inp["result"]);
    eq("sizes", (submit.len(), result.len()), (size, size))?;
    let mut r = Rec::from_parts(
        p.size_policy(),
        flags,
        1,
        u(&inp["start_gen"]) as u32,
        u(&inp["block_gen"]) as u32,
        &submit,
        &result,
        0,
        lvb(&inp["lvb_bits"]),
    )
    .map_err(|e| e.to_string())?;
    let in_lvb = lvb(&inp["control_lvb"]);
    let mut calls = vec![];
    let mut lvb_gen = Value::Null;
    let mut control_lvb = in_lvb;
    let mut write_lvb = false;
    let mut jids = vec![];
    let exit = 'step: {
        let (t, ex) = match r.control_begin() {
            ControlBegin::NotReady => break 'step "not_ready",
            ControlBegin::DlmRecovering => break 'step "dlm_recovering",
            ControlBegin::Lock(t, ex) => (t, ex),
        };
        calls.push(call_json(&ex));
        if i(&inp["ex_error"]) != 0 {
            break 'step "ex_error";
        }
        r = with_gens(
            &r,
            u(&inp["block_after_ex"]) as u32,
            u(&inp["start_after_ex"]) as u32,
        );
        let mut t = t;
        match r.control_locked(&mut t, &in_lvb) {
            ControlUpdate::Stale(nl) => {
                calls.push(call_json(&nl));
                lvb_gen = json!(in_lvb.generation());
                break 'step "block1";
            }
            ControlUpdate::Convert { call, lvb_gen: g } => {
                calls.push(call_json(&call));
                lvb_gen = json!(g);
                if let Some(w) = call.lvb {
                    write_lvb = true;
                    control_lvb = w;
                }
            }
        }
        if i(&inp["nl_error"]) != 0 {
            break 'step "nl_error";
        }
        r = with_gens(
            &r,
            u(&inp["block_at_end"]) as u32,
            u(&inp["start_at_end"]) as u32,
        );
        match r.control_converted(&t) {
            ControlFinish::Recover(set) => {
                jids = set.iter().collect();
                "recover_set"
            }
            ControlFinish::Unblocked { .. } => "done",
            ControlFinish::StillBlocked => "block2",
        }
    };
    eq("exit", exit, out["exit"].as_str().unwrap_or_default())?;
    eq("lvb_gen", lvb_gen, out["lvb_gen"].clone())?;
    eq("lvb_bits", *r.lvb_bits(), lvb(&out["lvb_bits"]))?;
    eq("control_lvb", control_lvb, lvb(&out["control_lvb"]))?;
    eq("write_lvb", write_lvb, b(&out["write_lvb"]))?;
    eq("submit", r.submit().to_vec(), u32s(&out["submit"]))?;
    eq("result", r.result().to_vec(), u32s(&out["result"]))?;
    eq("lock_calls", Value::Array(calls), out["lock_calls"].clone())?;
    eq("recover_jids", jids, u32s(&out["recover_jids"]))?;
    eq(
        "clear_block_locks",
        !r.flags().contains(RecoverFlags::BLOCK_LOCKS),
        b(&out["clear_block_locks"]),
    )
}

fn control_mount(p: Profile, inp: &Value, out: &Value) -> R {
    // Non-zero arrays so zeroing is observable.
    let submit = [7u32; 16];
    let result = [LM_RD_SUCCESS; 16];
    let mut r = Rec::from_parts(
        p.size_policy(),
        RecoverFlags::empty(),
        u(&inp["mount_gen"]) as u32,
        u(&inp["start_gen"]) as u32,
        u(&inp["block_gen"]) as u32,
        &submit,
        &result,
        0,
        ControlLvb::zeroed(),
    )
    .map_err(|e| e.to_string())?;
    let mut m = p.control_mount(b_or(&inp["spectator"], false));
    // Get to the pass: control NL (new), mounted NL (new), sleep, control EX.
    m.start(&mut r);
    let before = r.flags();
    m.on_lock_result(&mut r, 0, None)
        .map_err(|e| e.to_string())?;
    eq(
        "first sleep",
        m.on_lock_result(&mut r, 0, None)
            .map_err(|e| e.to_string())?,
        MountStep::Sleep { ms: 500 },
    )?;
    let mut step = m.on_sleep_done().map_err(|e| e.to_string())?;
    let in_lvb = lvb(&inp["control_lvb"]);
    let mut calls = vec![];
    let mut extra_sleep_ms = 0u32;
    let (outcome, error): (&str, Value) = loop {
        match step {
            MountStep::Lock(c) => {
                if c.lock == LockId::Mounted && c.mode == DlmMode::Nl {
                    break (retry_str(m.last_retry()), Value::Null);
                }
                calls.push(call_json(&c));
                let (status, l) = match (c.lock, c.mode) {
                    (LockId::Control, DlmMode::Ex) => (i(&inp["control_ex_status"]), Some(&in_lvb)),
                    (LockId::Mounted, DlmMode::Ex) => (i(&inp["mounted_ex_status"]), None),
                    (LockId::Mounted, DlmMode::Pr) => (i(&inp["mounted_pr_status"]), None),
                    (LockId::Control, DlmMode::Nl) => (i(&inp["control_nl_status"]), None),
                    other => return Err(format!("unexpected call {other:?}")),
                };
                step = m
                    .on_lock_result(&mut r, status as i32, l)
                    .map_err(|e| e.to_string())?;
            }
            MountStep::Unlock(l) => {
                calls.push(unlock_json(l));
                step = m.on_unlock_result(0).map_err(|e| e.to_string())?;
            }
            // A spectator's wait1 pause comes before the restart's own sleep.
            MountStep::Sleep { ms } if ms == SPECTATOR_WAIT_MS && extra_sleep_ms == 0 => {
                extra_sleep_ms = ms;
                step = m.on_sleep_done().map_err(|e| e.to_string())?;
            }
            MountStep::Sleep { .. } => break (retry_str(m.last_retry()), Value::Null),
            MountStep::Mounted { first } => {
                break (if first { "first_mounter" } else { "done" }, json!(0))
            }
            MountStep::Failed { error, reason } => {
                // The core's own reason: the LVB is read only once both locks are held.
                let disabled = reason == MountFailure::Disabled;
                break (if disabled { "disabled" } else { "fail" }, json!(error));
            }
        }
    };
    eq(
        "outcome",
        outcome,
        out["outcome"].as_str().unwrap_or_default(),
    )?;
    eq("error", error, out["error"].clone())?;
    eq(
        "mounted_mode",
        m.mounted_mode().raw() as i64,
        i(&out["mounted_mode"]),
    )?;
    eq(
        "lvb_gen",
        m.lvb_gen().map(u64::from),
        out["lvb_gen"].as_u64(),
    )?;
    flag_ops(before, r.flags(), out)?;
    let zeroed = r.submit().iter().all(|&x| x == 0) && r.result().iter().all(|&x| x == 0);
    eq(
        "zero_recover_arrays",
        zeroed,
        b(&out["zero_recover_arrays"]),
    )?;
    if !out["extra_sleep_ms"].is_null() {
        eq(
            "extra_sleep_ms",
            u64::from(extra_sleep_ms),
            u(&out["extra_sleep_ms"]),
        )?;
    }
    eq("lock_calls", Value::Array(calls), out["lock_calls"].clone())
}

/// `flags_set` / `flags_cleared` are the bits the function set / cleared (a set of an
/// already-set bit counts): the result must have them, and nothing else may change.
fn flag_ops(before: RecoverFlags, after: RecoverFlags, out: &Value) -> R {
    let set = RecoverFlags::from_bits_retain(u(&out["flags_set"]) as u32);
    let cleared = RecoverFlags::from_bits_retain(u(&out["flags_cleared"]) as u32);
    eq("flags after", after, (before | set) - cleared)
}

fn retry_str(r: Option<RetryReason>) -> &'static str {
    match r {
        Some(RetryReason::ControlBusy) => "restart_control_busy",
        Some(RetryReason::WaitJournals) => "wait_journals",
        Some(RetryReason::Wait1) => "wait1",
        Some(RetryReason::Wait2) => "wait2",
        Some(RetryReason::Wait3) => "wait3",
        None => "restart?",
    }
}

/// Outcome note, result, lock calls and the LVB written.
type FirstDoneRun = (&'static str, Value, Vec<Value>, Option<ControlLvb>);

/// Run `control_first_done` with the given lock statuses; returns the outcome note,
/// result, lock calls and the control LVB written.
fn run_first_done(r: &mut Rec, mounted_pr: i32, control_nl: i32) -> Result<FirstDoneRun, String> {
    let mut fd = FirstDone::new();
    let mut calls = vec![];
    let mut written = None;
    let mut step = fd.start(r).map_err(|e| e.to_string())?;
    loop {
        match step {
            FirstDoneStep::WaitDlmRecovery => return Ok(("wait", Value::Null, calls, None)),
            FirstDoneStep::Unlock(l) => {
                calls.push(unlock_json(l));
                step = fd.on_unlock_result(0).map_err(|e| e.to_string())?;
            }
            FirstDoneStep::Lock(c) => {
                calls.push(call_json(&c));
                written = written.or(c.lvb);
                let st = if c.lock == LockId::Mounted {
                    mounted_pr
                } else {
                    control_nl
                };
                step = fd.on_lock_result(st).map_err(|e| e.to_string())?;
            }
            FirstDoneStep::Done { result } => {
                let note = if result == -1 && written.is_none() {
                    "sanity_fail"
                } else {
                    "done"
                };
                return Ok((note, json!(result), calls, written));
            }
        }
    }
}

fn control_first_done(p: Profile, inp: &Value, out: &Value) -> R {
    let submit = [7u32; 16];
    let result = [LM_RD_SUCCESS; 16];
    let mut r = Rec::from_parts(
        p.size_policy(),
        RecoverFlags::from_bits_retain(u(&inp["flags"]) as u32),
        1,
        u(&inp["start_gen"]) as u32,
        u(&inp["block_gen"]) as u32,
        &submit,
        &result,
        0,
        lvb(&json!("ff".repeat(32))),
    )
    .map_err(|e| e.to_string())?;
    let before = r.flags();
    let (note, ret, calls, written) = run_first_done(
        &mut r,
        i(&inp["mounted_pr_status"]) as i32,
        i(&inp["control_nl_status"]) as i32,
    )?;
    eq("outcome", note, out["outcome"].as_str().unwrap_or_default())?;
    eq("ret", ret, out["ret"].clone())?;
    flag_ops(before, r.flags(), out)?;
    let zeroed = r.submit().iter().all(|&x| x == 0) && r.result().iter().all(|&x| x == 0);
    eq(
        "zero_recover_arrays",
        zeroed,
        b(&out["zero_recover_arrays"]),
    )?;
    eq("write_lvb", written.is_some(), b(&out["write_lvb"]))?;
    if let Some(w) = written {
        eq("lvb_bits zeroed", *r.lvb_bits(), ControlLvb::zeroed())?;
        eq("control_lvb", w, lvb(&out["control_lvb"]))?;
    }
    eq("lock_calls", Value::Array(calls), out["lock_calls"].clone())
}

fn recovery_sequence(p: Profile, inp: &Value, out: &Value) -> R {
    let mut r = rec_from(p, &inp["state"], lvb(&inp["lvb_bits"]));
    if b_or(&inp["withdrawn"], false) {
        r.withdraw();
    }
    let mut control_lvb = lvb(&inp["control_lvb"]);
    let afters = out["after"].as_array().ok_or("after")?;
    let events = inp["events"].as_array().ok_or("events")?;
    eq("event count", events.len(), afters.len())?;
    for (k, (ev, want)) in events.iter().zip(afters).enumerate() {
        let note: String = match ev["ev"].as_str().unwrap_or_default() {
            "withdraw" => {
                r.withdraw();
                String::new()
            }
            "prep" => {
                let ignored = r.ignores_callbacks();
                r.recover_prep();
                if ignored { "withdrawn" } else { "" }.into()
            }
            "slot" => slot_note(&mut r, i(&ev["slot"]) as i32)
                .map_err(|e| format!("event {k}: {e}"))?
                .into(),
            "done" => {
                let slots: Vec<i32> = i32s(&ev["slots"])?;
                let gen = r
                    .recover_start()
                    .wrapping_add(u(&ev["generation_delta"]) as u32);
                done_note(&mut r, &slots, i(&ev["our_slot"]) as i32, gen)?.into()
            }
            "result" => {
                let (o, q) = result_note(&mut r, u(&ev["jid"]) as u32, u(&ev["result"]) as u32)?;
                format!("{o}:{q}")
            }
            "control" => match r.control_begin() {
                ControlBegin::NotReady => "not_ready:".into(),
                ControlBegin::DlmRecovering => "dlm_recovering:".into(),
                ControlBegin::Lock(mut t, _) => {
                    let ControlUpdate::Convert { call, .. } =
                        r.control_locked(&mut t, &control_lvb)
                    else {
                        return Err(format!("event {k}: stale without concurrency"));
                    };
                    if let Some(w) = call.lvb {
                        control_lvb = w;
                    }
                    match r.control_converted(&t) {
                        ControlFinish::Recover(set) => format!(
                            "recover_set:{}",
                            set.iter()
                                .map(|j| j.to_string())
                                .collect::<Vec<_>>()
                                .join(",")
                        ),
                        ControlFinish::Unblocked { .. } => "done:".into(),
                        ControlFinish::StillBlocked => "block2:".into(),
                    }
                }
            },
            "first_done" => {
                let (note, _, _, written) = run_first_done(&mut r, 0, 0)?;
                if let Some(w) = written {
                    control_lvb = w;
                }
                note.into()
            }
            other => return Err(format!("unknown event {other}")),
        };
        let ctx = |e: String| format!("event {k} ({ev}): {e}");
        eq(
            "note",
            note.as_str(),
            want["note"].as_str().unwrap_or_default(),
        )
        .map_err(ctx)?;
        eq("state", state_json(&r), want["state"].clone()).map_err(ctx)?;
        eq("control_lvb", control_lvb, lvb(&want["control_lvb"])).map_err(ctx)?;
        eq("lvb_bits", *r.lvb_bits(), lvb(&want["lvb_bits"])).map_err(ctx)?;
        if !want["withdrawn"].is_null() {
            eq("withdrawn", r.withdrawn(), b(&want["withdrawn"])).map_err(ctx)?;
        }
    }
    Ok(())
}

fn mount(p: Profile, inp: &Value, out: &Value) -> R {
    let mut got = json!({"result": "fail", "ret": null, "cluster": null, "fsname": null,
        "new_lockspace_called": false, "lockspace_flags": null, "lvblen": null,
        "control_mount_called": false, "release_option": null, "free_recover_size": false,
        "flags_after": 0, "recover_size_after": 0, "ls_first": null,
        "clear_nojournalid": false});
    let done = |mut g: Value, ret: i32, r: &Rec| {
        g["ret"] = json!(ret);
        g["flags_after"] = json!(r.flags().bits());
        g["recover_size_after"] = json!(r.recover_size());
        g
    };
    // gdlm_mount: set_recover_size(sdp, NULL, 0) gives the first 16 entries.
    let err = i(&inp["set_recover_size_error"]) as i32;
    let mut r: Rec = p.recovery();
    if err != 0 {
        return eq_keys("mount", &done(got, err, &r), out);
    }
    let size = recovery::set_recover_size(p.size_policy(), 0, &[]) as usize;
    r = Rec::from_parts(
        p.size_policy(),
        RecoverFlags::empty(),
        0,
        0,
        0,
        &vec![0; size],
        &vec![0; size],
        -1,
        ControlLvb::zeroed(),
    )
    .map_err(|e| e.to_string())?
    .with_withdraw_guard(p.withdraw_guard());
    let table = match p.lock_table(inp["table"].as_str().ok_or("table")?) {
        Ok(t) => t,
        Err(TableError::NoFsname) => {
            // fail_free: "no fsname found", -EINVAL.
            r.release();
            got["free_recover_size"] = json!(true);
            return eq_keys("mount", &done(got, -EINVAL, &r), out);
        }
        Err(e) => return Err(format!("table refused: {e}")),
    };
    let opts = MountOptions {
        jid: (!b(&inp["nojournalid"])).then_some(0),
        ..Default::default()
    };
    got["cluster"] = json!(table.cluster.as_str());
    got["fsname"] = json!(table.fsname.as_str());
    got["new_lockspace_called"] = json!(true);
    got["lockspace_flags"] = json!(p.lockspace_flags(&opts));
    got["lvblen"] = json!(GDLM_LVB_SIZE);
    let err = i(&inp["new_lockspace_error"]) as i32;
    if err != 0 {
        r.release();
        got["free_recover_size"] = json!(true);
        return eq_keys("mount", &done(got, err, &r), out);
    }
    let release = |mut g: Value, r: &mut Rec| {
        // fail_release: dlm_release_lockspace, then free_recover_size.
        g["release_option"] = json!(p.release_option(true));
        g["free_recover_size"] = json!(true);
        r.release();
        g
    };
    match mnt::after_new_lockspace(&mut r, i(&inp["ops_result"]) as i32, &opts) {
        Ok(OpsMode::NoOps) => {
            got["result"] = json!("no_dlm_ops");
            got["free_recover_size"] = json!(true);
            return eq_keys("mount", &done(got, 0, &r), out);
        }
        Err(TableError::JidPreset) => {
            let g = release(got, &mut r);
            return eq_keys("mount", &done(g, -EINVAL, &r), out);
        }
        Err(e) => return Err(format!("unexpected {e}")),
        Ok(OpsMode::DlmOps) => {}
    }
    // control_mount's result is an input here (its own vectors check the machine).
    got["control_mount_called"] = json!(true);
    let err = i(&inp["control_mount_error"]) as i32;
    if err != 0 {
        let g = release(got, &mut r);
        return eq_keys("mount", &done(g, err, &r), out);
    }
    let first = b(&inp["control_mount_first"]);
    let r = Rec::from_parts(
        r.policy(),
        if first {
            RecoverFlags::FIRST_MOUNT
        } else {
            RecoverFlags::empty()
        },
        0,
        0,
        0,
        r.submit(),
        r.result(),
        r.jid(),
        *r.lvb_bits(),
    )
    .map_err(|e| e.to_string())?;
    got["result"] = json!("mounted");
    got["ls_first"] = json!(u8::from(r.flags().contains(RecoverFlags::FIRST_MOUNT)));
    got["clear_nojournalid"] = json!(true);
    eq_keys("mount", &done(got, 0, &r), out)
}

fn unmount(p: Profile, inp: &Value, out: &Value) -> R {
    let mut r = Rec::from_parts(
        p.size_policy(),
        RecoverFlags::from_bits_retain(u(&inp["flags"]) as u32),
        1,
        1,
        1,
        &[0; 16],
        &[0; 16],
        0,
        ControlLvb::zeroed(),
    )
    .map_err(|e| e.to_string())?;
    let flush = r.begin_unmount() == UnmountBegin::FlushThenRelease;
    // release: under ls_sem (write), only while ls_dlm is set.
    let present = b(&inp["ls_dlm_present"]);
    let option = present.then(|| p.release_option(b(&inp["clean"])));
    r.release();
    let got = json!({"set_unmount": flush, "flush_control_work": flush,
        "release_called": present, "release_option": option, "ls_dlm_present_after": false,
        "flags_after": r.flags().bits(), "free_recover_size": r.recover_size() == 0});
    eq_keys("unmount", &got, out)
}

// ---- driver ---------------------------------------------------------------------

type Check = fn(Profile, &Value, &Value) -> R;

/// Every checker, and the profiles whose vector sets must have its file.
const FUNCTIONS: &[(&str, Check, &[Profile])] = &[
    ("constants", constants, BOTH),
    ("update_stats", update_stats, BOTH),
    ("stats_sequence", stats_sequence, BOTH),
    ("stats_index", stats_index, BOTH),
    ("make_mode", make_mode, BOTH),
    ("make_flags", make_flags, BOTH),
    ("bast", bast, BOTH),
    ("lock_name", lock_name, BOTH),
    ("sync_lock_name", sync_lock_name, BOTH),
    ("gdlm_lock", gdlm_lock, BOTH),
    ("put_lock", put_lock, BOTH),
    ("cancel", cancel, L72),
    ("ast", ast_case, BOTH),
    ("lvb_read", lvb_read, BOTH),
    ("lvb_write", lvb_write, BOTH),
    ("jid_bits", jid_bits, BOTH),
    ("sync_lock", sync_lock, L72),
    ("control_func", control_func, BOTH),
    ("control_mount", control_mount, BOTH),
    ("control_first_done", control_first_done, BOTH),
    ("set_recover_size", set_recover_size, BOTH),
    ("recover_prep", recover_prep, BOTH),
    ("recover_slot", recover_slot, BOTH),
    ("recover_done", recover_done, BOTH),
    ("recovery_result", recovery_result, BOTH),
    ("recovery_sequence", recovery_sequence, BOTH),
    ("mount", mount, L72),
    ("unmount", unmount, L72),
];
const BOTH: &[Profile] = &[Profile::Reference, Profile::Linux72];
const L72: &[Profile] = &[Profile::Linux72];

/// Cases checked and failed in one directory, and the first failures.
struct SetReport {
    profile: Profile,
    total: usize,
    failed: usize,
    per_fn: BTreeMap<&'static str, (usize, usize)>,
    first_failures: Vec<String>,
}

/// Check every vector file of `dir`. The profile is the one every case names
/// (`"policy"`); a set mixing profiles, a file without cases, a missing file of that
/// profile or an unknown file fails.
fn check_dir(dir: &std::path::Path) -> Result<SetReport, String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    files.sort();
    for f in &files {
        let stem = f.trim_end_matches(".jsonl");
        if !FUNCTIONS.iter().any(|(n, _, _)| *n == stem) {
            return Err(format!("{}: no checker for {f}", dir.display()));
        }
    }
    let mut profile: Option<Profile> = None;
    let mut rep = SetReport {
        profile: Profile::Reference,
        total: 0,
        failed: 0,
        per_fn: BTreeMap::new(),
        first_failures: vec![],
    };
    for (name, check, _) in FUNCTIONS {
        let path = dir.join(format!("{name}.jsonl"));
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (mut n, mut bad) = (0usize, 0usize);
        for (lineno, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let at = || format!("{}:{}", path.display(), lineno + 1);
            let v: Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            if v["fn"].as_str() != Some(*name) {
                return Err(format!("{}: fn {} in {name}.jsonl", at(), v["fn"]));
            }
            let p = Profile::from_policy_name(v["in"]["policy"].as_str())
                .ok_or_else(|| format!("{}: unknown policy {}", at(), v["in"]["policy"]))?;
            if *profile.get_or_insert(p) != p {
                return Err(format!(
                    "{}: policy {} in a {:?} set",
                    at(),
                    p.name(),
                    profile
                ));
            }
            n += 1;
            if let Err(e) = check(p, &v["in"], &v["out"]) {
                bad += 1;
                if rep.first_failures.len() < 20 {
                    rep.first_failures
                        .push(format!("{name} id {}: {e}", v["id"]));
                }
            }
        }
        rep.per_fn.insert(*name, (n, bad));
        rep.total += n;
        rep.failed += bad;
    }
    rep.profile = profile.ok_or_else(|| format!("{}: no cases found", dir.display()))?;
    for (name, _, profiles) in FUNCTIONS {
        let required = profiles.contains(&rep.profile);
        match rep.per_fn.get(name) {
            None if required => return Err(format!("{}: {name}.jsonl is missing", dir.display())),
            Some((0, _)) => return Err(format!("{}: {name}.jsonl has no cases", dir.display())),
            _ => {}
        }
    }
    Ok(rep)
}

#[test]
fn golden_vectors() {
    let mut all_failures = vec![];
    for dir in dirs() {
        let rep = check_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        println!("{} ({}):", dir.display(), rep.profile.name());
        for (name, (n, bad)) in &rep.per_fn {
            println!("{name:<20} {n:>6} cases, {bad} failed");
        }
        println!(
            "vectors: {} cases checked, {} failed",
            rep.total, rep.failed
        );
        for f in &rep.first_failures {
            println!("  {f}");
        }
        if rep.failed > 0 {
            all_failures.push(format!(
                "{}: {} failed\n{}",
                dir.display(),
                rep.failed,
                rep.first_failures.join("\n")
            ));
        }
    }
    assert!(
        all_failures.is_empty(),
        "golden vector mismatches:\n{}",
        all_failures.join("\n")
    );
}
