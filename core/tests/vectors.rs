//! Golden vectors computed from a C transcription of the reference (see
//! `tests/vectors/SCHEMA.md`). Every case of every file is checked.
//!
//! `GDLM_VECTORS=<dir>` reads another directory (e.g. `../shared/vectors`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use gdlm_core::ast::{self, AstInput, AstOutcome, AstStyle, PutLock, PutLockInput};
use gdlm_core::consts::*;
use gdlm_core::flags::{self, FlagPolicy, LmFlags, LockContext, RequestStamp};
use gdlm_core::lvb::{control_lvb_read, control_lvb_write, ControlLvb};
use gdlm_core::mode::{self, BastMode, DlmMode, LmState};
use gdlm_core::mount::{ControlMount, FirstDone, FirstDoneStep, MountStep, RetryReason};
use gdlm_core::name::{LockName, NameStyle};
use gdlm_core::recovery::{
    self, ControlBegin, ControlFinish, ControlUpdate, ControlWork, LockId, RecoverFlags, Recovery,
    ResultIgnored, ResultOutcome, SizePolicy, SyncLock,
};
use gdlm_core::stats::{LkStats, StatPair};
use serde_json::{json, Value};

type R = Result<(), String>;
type Rec = Recovery<192>;

fn dir() -> PathBuf {
    std::env::var_os("GDLM_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"))
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

fn rec_from(st: &Value, lvb_bits: ControlLvb) -> Rec {
    Recovery::from_parts(
        SizePolicy::Reference,
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

fn constants(inp: &Value, out: &Value) -> R {
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

fn update_stats(inp: &Value, out: &Value) -> R {
    let mut s = stats_arr(&inp["stats"]);
    let pair = StatPair::from_index(u(&inp["index"]) as usize).ok_or("bad index")?;
    s.update(pair, s64(&inp["sample"]));
    eq("stats", stats_json(&s), out["stats"].clone())
}

fn stats_sequence(inp: &Value, out: &Value) -> R {
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

fn stats_index(inp: &Value, out: &Value) -> R {
    let idx = match inp["kind"].as_str() {
        Some("reply") => StatPair::reply(b(&inp["blocking"])).index(),
        Some("request") => StatPair::Sirt.index(),
        _ => return Err("kind".into()),
    };
    eq("index", idx as u64, u(&out["index"]))
}

fn make_mode(inp: &Value, out: &Value) -> R {
    match mode::make_mode(u(&inp["lmstate"]) as u32) {
        Ok(m) => {
            eq("bug", false, b(&out["bug"]))?;
            eq("mode", m.raw() as i64, i(&out["mode"]))
        }
        Err(_) => eq("bug", true, b(&out["bug"])),
    }
}

fn make_flags(inp: &Value, out: &Value) -> R {
    let req = DlmMode::try_from(i(&inp["req"]) as i32).map_err(|e| e.to_string())?;
    let ctx = LockContext {
        has_lvb: b(&inp["has_lvb"]),
        converting: b(&inp["lkid_nonzero"]),
        glf_blocking: b(&inp["blocking"]),
        cur: None,
    };
    let r = flags::make_flags(
        &FlagPolicy::REFERENCE,
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

fn bast(inp: &Value, out: &Value) -> R {
    match mode::bast_state(BastMode::Mode(i(&inp["mode"]) as i32)) {
        Ok(s) => {
            eq("bug", false, b(&out["bug"]))?;
            eq("state", u64::from(s.raw()), u(&out["state"]))
        }
        Err(_) => eq("bug", true, b(&out["bug"])),
    }
}

fn lock_name(inp: &Value, out: &Value) -> R {
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

fn sync_lock_name(inp: &Value, out: &Value) -> R {
    let e = LockName::nondisk(u(&inp["num"]) as u32).encode();
    eq("name", e.as_str(), out["name"].as_str().unwrap_or_default())
}

fn gdlm_lock(inp: &Value, out: &Value) -> R {
    let ctx = LockContext {
        has_lvb: b(&inp["has_lvb"]),
        converting: u(&inp["lkid"]) != 0,
        glf_blocking: b(&inp["blocking"]),
        cur: None,
    };
    let name = LockName::new(u(&inp["type"]) as u32, u64s(&inp["number"]));
    let r = flags::lock_request(
        &FlagPolicy::REFERENCE,
        &name,
        NameStyle::Reference,
        u(&inp["req_state"]) as u32,
        LmFlags::from_bits_retain(u(&inp["gfs_flags"]) as u32),
        &ctx,
    );
    match r {
        Err(_) => eq("bug", true, b(&out["bug"])),
        Ok(req) => {
            eq("bug", false, b(&out["bug"]))?;
            eq("req", req.mode.raw() as i64, i(&out["req"]))?;
            eq("lkf", u64::from(req.flags.bits()), u(&out["lkf"]))?;
            eq(
                "name",
                to_hex(&req.strname()),
                out["name"].as_str().unwrap_or_default().into(),
            )?;
            eq(
                "update_request_times",
                req.stamp == RequestStamp::UpdateRequestTimes,
                b(&out["update_request_times"]),
            )?;
            eq(
                "dstamp_set",
                req.stamp == RequestStamp::SetDstamp,
                b(&out["dstamp_set"]),
            )
        }
    }
}

fn put_lock(inp: &Value, out: &Value) -> R {
    let p = ast::put_lock(&PutLockInput {
        lkid: u(&inp["lkid"]) as u32,
        has_lvb: b(&inp["has_lvb"]),
        gl_state: lm(&inp["gl_state"]),
        skip_dlm_unlock: b(&inp["skip_dlm_unlock"]),
    });
    let (action, flags) = match p {
        PutLock::Free => ("free", Value::Null),
        PutLock::FreeSkipUnlock => ("free_skip_unlock", Value::Null),
        PutLock::Unlock { flags, .. } => ("dlm_unlock", json!(flags.bits())),
    };
    eq("action", action, out["action"].as_str().unwrap_or_default())?;
    eq(
        "update_request_times",
        p.updates_request_times(),
        b(&out["update_request_times"]),
    )?;
    eq("unlock_flags", flags, out["unlock_flags"].clone())
}

fn ast_case(inp: &Value, out: &Value) -> R {
    let a = AstInput {
        gl_state: lm(&inp["gl_state"]),
        gl_req: lm(&inp["gl_req"]),
        sb_status: i(&inp["sb_status"]) as i32,
        sb_flags: u(&inp["sb_flags"]) as u8,
        has_lvb: b(&inp["has_lvb"]),
        glf_initial: b(&inp["glf_initial"]),
        lkid: u(&inp["lkid"]) as u32,
        dead: false,
    };
    let got = match ast::gdlm_ast(AstStyle::Reference, &a) {
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
        Ok(AstOutcome::Ignored) => return Err("reference style never ignores".into()),
        Err(e) => {
            let reason = match e {
                ast::AstError::Demoted => "demoted",
                ast::AstError::UnknownStatus(_) => "status",
                ast::AstError::AltMode(_) => "altmode",
                ast::AstError::NoLock => "nolock",
            };
            json!({"action": "bug", "bug_reason": reason, "ret": null, "lvb_zeroed": null,
                   "lkid_after": null, "glf_initial_after": null})
        }
    };
    eq("ast", got, out.clone())
}

fn lvb_read(inp: &Value, out: &Value) -> R {
    let (gen, bits) = control_lvb_read(&lvb(&inp["lvb"]));
    eq("lvb_gen", u64::from(gen), u(&out["lvb_gen"]))?;
    eq("lvb_bits", bits, lvb(&out["lvb_bits"]))
}

fn lvb_write(inp: &Value, out: &Value) -> R {
    let w = control_lvb_write(u(&inp["lvb_gen"]) as u32, &lvb(&inp["lvb_bits"]));
    eq("lvb", w, lvb(&out["lvb"]))
}

fn jid_bits(inp: &Value, out: &Value) -> R {
    let l = lvb(&inp["lvb"]);
    eq("all_clear", l.all_jid_bits_clear(), b(&out["all_clear"]))?;
    eq(
        "jids",
        l.jids().iter().collect::<Vec<_>>(),
        u32s(&out["jids"]),
    )
}

fn set_recover_size(inp: &Value, out: &Value) -> R {
    let slots: Vec<i32> = i32s(&inp["slots"])?;
    let n = recovery::set_recover_size(SizePolicy::Reference, u(&inp["old_size"]) as u32, &slots);
    eq("new_size", u64::from(n), u(&out["new_size"]))
}

fn recover_prep(inp: &Value, out: &Value) -> R {
    let mut r = rec_from(&inp["state"], ControlLvb::zeroed());
    r.recover_prep();
    eq("state", state_json(&r), out["state"].clone())
}

fn recover_slot(inp: &Value, out: &Value) -> R {
    let mut r = rec_from(&inp["state"], ControlLvb::zeroed());
    let outcome = match r.recover_slot(i(&inp["slot"]) as i32) {
        Ok(_) => "recorded",
        Err(e) if is_short(&e) => "short_size",
        Err(e) => return Err(format!("unexpected {e}")),
    };
    eq(
        "outcome",
        outcome,
        out["outcome"].as_str().unwrap_or_default(),
    )?;
    eq("state", state_json(&r), out["state"].clone())
}

fn recover_done(inp: &Value, out: &Value) -> R {
    let mut r = rec_from(&inp["state"], ControlLvb::zeroed());
    let slots: Vec<i32> = i32s(&inp["slots"])?;
    let w = r
        .recover_done(
            &slots,
            i(&inp["our_slot"]) as i32,
            u(&inp["generation"]) as u32,
        )
        .map_err(|e| e.to_string())?;
    eq(
        "queued",
        work_str(w),
        out["queued"].as_str().unwrap_or_default(),
    )?;
    eq("state", state_json(&r), out["state"].clone())
}

fn result_note(r: &mut Rec, jid: u32, result: u32) -> Result<(&'static str, &'static str), String> {
    Ok(match r.recovery_result(jid, result) {
        Ok(ResultOutcome::Recorded(w)) => ("recorded", work_str(w)),
        Ok(ResultOutcome::Ignored(ResultIgnored::NoDlmOps)) => ("no_dlm_ops", "none"),
        Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid)) => ("own_jid", "none"),
        Ok(ResultOutcome::Ignored(ResultIgnored::FirstMount)) => ("first_mount", "none"),
        Err(e) if is_short(&e) => ("short_size", "none"),
        Err(e) => return Err(format!("unexpected {e}")),
    })
}

fn recovery_result(inp: &Value, out: &Value) -> R {
    let mut r = rec_from(&inp["state"], ControlLvb::zeroed());
    let (o, q) = result_note(&mut r, u(&inp["jid"]) as u32, u(&inp["result"]) as u32)?;
    eq("outcome", o, out["outcome"].as_str().unwrap_or_default())?;
    eq("queued", q, out["queued"].as_str().unwrap_or_default())?;
    eq("state", state_json(&r), out["state"].clone())
}

fn control_func(inp: &Value, out: &Value) -> R {
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
        SizePolicy::Reference,
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

fn control_mount(inp: &Value, out: &Value) -> R {
    // Non-zero arrays so zeroing is observable.
    let submit = [7u32; 16];
    let result = [LM_RD_SUCCESS; 16];
    let mut r = Rec::from_parts(
        SizePolicy::Reference,
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
    let mut m = ControlMount::new();
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
            MountStep::Sleep { .. } => break (retry_str(m.last_retry()), Value::Null),
            MountStep::Mounted { first } => {
                break (if first { "first_mounter" } else { "done" }, json!(0))
            }
            MountStep::Failed { error } => {
                let disabled =
                    error == -EINVAL && in_lvb.is_disabled() && i(&inp["control_ex_status"]) == 0;
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

fn control_first_done(inp: &Value, out: &Value) -> R {
    let submit = [7u32; 16];
    let result = [LM_RD_SUCCESS; 16];
    let mut r = Rec::from_parts(
        SizePolicy::Reference,
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

fn recovery_sequence(inp: &Value, out: &Value) -> R {
    let mut r = rec_from(&inp["state"], lvb(&inp["lvb_bits"]));
    let mut control_lvb = lvb(&inp["control_lvb"]);
    let afters = out["after"].as_array().ok_or("after")?;
    let events = inp["events"].as_array().ok_or("events")?;
    eq("event count", events.len(), afters.len())?;
    for (k, (ev, want)) in events.iter().zip(afters).enumerate() {
        let note: String = match ev["ev"].as_str().unwrap_or_default() {
            "prep" => {
                r.recover_prep();
                String::new()
            }
            "slot" => match r.recover_slot(i(&ev["slot"]) as i32) {
                Ok(_) => "recorded".into(),
                Err(e) if is_short(&e) => "short_size".into(),
                Err(e) => return Err(format!("event {k}: {e}")),
            },
            "done" => {
                let slots: Vec<i32> = i32s(&ev["slots"])?;
                let gen = r
                    .recover_start()
                    .wrapping_add(u(&ev["generation_delta"]) as u32);
                let w = r
                    .recover_done(&slots, i(&ev["our_slot"]) as i32, gen)
                    .map_err(|e| e.to_string())?;
                work_str(w).into()
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
    }
    Ok(())
}

// ---- driver ---------------------------------------------------------------------

type Check = fn(&Value, &Value) -> R;

const FUNCTIONS: &[(&str, Check)] = &[
    ("constants", constants),
    ("update_stats", update_stats),
    ("stats_sequence", stats_sequence),
    ("stats_index", stats_index),
    ("make_mode", make_mode),
    ("make_flags", make_flags),
    ("bast", bast),
    ("lock_name", lock_name),
    ("sync_lock_name", sync_lock_name),
    ("gdlm_lock", gdlm_lock),
    ("put_lock", put_lock),
    ("ast", ast_case),
    ("lvb_read", lvb_read),
    ("lvb_write", lvb_write),
    ("jid_bits", jid_bits),
    ("control_func", control_func),
    ("control_mount", control_mount),
    ("control_first_done", control_first_done),
    ("set_recover_size", set_recover_size),
    ("recover_prep", recover_prep),
    ("recover_slot", recover_slot),
    ("recover_done", recover_done),
    ("recovery_result", recovery_result),
    ("recovery_sequence", recovery_sequence),
];

#[test]
fn golden_vectors() {
    let dir = dir();
    let mut total = 0usize;
    let mut failed = 0usize;
    let mut report = BTreeMap::new();
    let mut first_failures = vec![];
    for (name, check) in FUNCTIONS {
        let path = dir.join(format!("{name}.jsonl"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let (mut n, mut bad) = (0usize, 0usize);
        for (lineno, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), lineno + 1));
            assert_eq!(
                v["fn"].as_str(),
                Some(*name),
                "{}:{}",
                path.display(),
                lineno + 1
            );
            n += 1;
            if let Err(e) = check(&v["in"], &v["out"]) {
                bad += 1;
                if first_failures.len() < 20 {
                    first_failures.push(format!("{name} id {}: {e}", v["id"]));
                }
            }
        }
        report.insert(*name, (n, bad));
        total += n;
        failed += bad;
    }
    for (name, (n, bad)) in &report {
        println!("{name:<20} {n:>6} cases, {bad} failed");
    }
    println!("vectors: {total} cases checked, {failed} failed");
    for f in &first_failures {
        println!("  {f}");
    }
    assert!(
        report.values().all(|(n, _)| *n > 0),
        "a vector file has no cases"
    );
    assert!(total > 0, "no cases found");
    assert_eq!(
        failed,
        0,
        "golden vector mismatches:\n{}",
        first_failures.join("\n")
    );
}
