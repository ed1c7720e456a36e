//! Side-by-side harness: each benchmarked gdlm-core function and a C transcription
//! of the same reference function (`c/lock_dlm_ref.c`, built by `build.rs` at -O2).
//!
//! Both sides get the same cases ([`cases`]), each in its own natural form: Rust
//! types for gdlm-core, plain C structs for the C ([`ffi`]). The measured unit on
//! each side is one call of a non-inlined function — `rs_*` here, `ref_*` in C —
//! so both pay one call and nothing of the loop is folded into it. The `rs_*`
//! functions are `#[no_mangle]` so that callgrind can select them by name.
//!
//! [`outcome`] turns both sides' results into one comparable form; the
//! equivalence test checks them on generated inputs.

use gdlm_core::ast::{gdlm_ast_apply, AstError, AstGlock, AstInput, AstStyle};
use gdlm_core::flags::{make_flags, DlmLkf, FlagPolicy, FlagsError, LmFlags, LockContext};
use gdlm_core::lvb::{
    control_lvb_read_into, control_lvb_read_slice, control_lvb_write, ControlLvb, LvbLengthError,
};
use gdlm_core::mode::DlmMode;
use gdlm_core::name::{LockName, NameStyle, ResName};
use gdlm_core::recovery::{ControlFinish, ControlTicket, ControlUpdate, Recovery};
use gdlm_core::stats::{LkStats, StatPair};

/// The capacity of the benchmarked [`Recovery`] (what the LVB can describe).
pub const JIDS: usize = 192;

/// The C transcription: structures and functions of `c/lock_dlm_ref.c`.
#[allow(missing_docs)]
pub mod ffi {
    use core::ffi::{c_char, c_int, c_uint, c_ulong};

    pub const GLF_INITIAL: u32 = 10;
    pub const GLF_BLOCKING: u32 = 15;
    pub const DFL_BLOCK_LOCKS: u32 = 0;
    pub const MAX_JIDS: usize = 192;

    pub const REF_OK: c_int = 0;
    pub const REF_BUG_DEMOTED: c_int = 1;
    pub const REF_BUG_STATUS: c_int = 2;
    pub const REF_BUG_ALTMODE: c_int = 3;
    pub const REF_BUG_ANY: c_int = 4;

    pub const REF_AST_NONE: c_int = 0;
    pub const REF_AST_COMPLETE: c_int = 1;
    pub const REF_AST_FREE: c_int = 2;

    pub const REF_CONTROL_BLOCK1: c_int = 1;
    pub const REF_CONTROL_RECOVER_SET: c_int = 2;
    pub const REF_CONTROL_DONE: c_int = 3;
    pub const REF_CONTROL_BLOCK2: c_int = 4;

    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    pub struct LmLockname {
        pub ln_number: u64,
        pub ln_type: c_uint,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct DlmLksb {
        pub sb_status: c_int,
        pub sb_lkid: u32,
        pub sb_flags: c_char,
        pub sb_lvbptr: *mut c_char,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Gfs2Lkstats {
        pub stats: [i64; 8],
    }

    /// `struct gfs2_glock` reduced to what make_flags and gdlm_ast touch. When it
    /// has an LVB, `gl_lksb.sb_lvbptr` points at its own `gl_lvb`: see [`Glocks`].
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct Gfs2Glock {
        pub gl_flags: c_ulong,
        pub gl_state: c_uint,
        pub gl_req: c_uint,
        pub gl_lksb: DlmLksb,
        pub gl_lvb: [u8; 32],
        pub gl_action: c_int,
        pub gl_ret: c_uint,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct LmLockstruct {
        pub ls_recover_flags: c_ulong,
        pub ls_recover_block: u32,
        pub ls_recover_start: u32,
        pub ls_recover_size: u32,
        pub ls_recover_submit: [u32; MAX_JIDS],
        pub ls_recover_result: [u32; MAX_JIDS],
        pub ls_control_lvb: [u8; 32],
        pub ls_lvb_bits: [u8; 32],
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct RefControlOut {
        pub exit: c_int,
        pub lvb_gen: u32,
        pub write_lvb: c_int,
        pub nl_flags: u32,
        pub recover_count: u32,
        pub recover_jids: [u32; MAX_JIDS],
    }

    impl Default for RefControlOut {
        fn default() -> Self {
            RefControlOut {
                exit: 0,
                lvb_gen: 0,
                write_lvb: 0,
                nl_flags: 0,
                recover_count: 0,
                recover_jids: [0; MAX_JIDS],
            }
        }
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct RefLvbLs {
        pub ls_control_lvb: [u8; 32],
    }

    extern "C" {
        pub fn ref_update_stats(s: *mut Gfs2Lkstats, index: c_uint, sample: i64);
        pub fn ref_gdlm_ast(gl: *mut Gfs2Glock) -> c_int;
        pub fn ref_make_flags(
            gl: *const Gfs2Glock,
            gfs_flags: c_uint,
            req: c_int,
            lkf: *mut u32,
        ) -> c_int;
        pub fn ref_lock_name(strname: *mut c_char, name: *const LmLockname);
        pub fn ref_control_lvb_read(ls: *const RefLvbLs, lvb_gen: *mut u32, lvb_bits: *mut c_char);
        pub fn ref_control_lvb_write(ls: *mut RefLvbLs, lvb_gen: u32, lvb_bits: *const c_char);
        pub fn ref_control_lvb_read_checked(
            raw: *const c_char,
            len: usize,
            lvb_gen: *mut u32,
            lvb_bits: *mut c_char,
        ) -> c_int;
        pub fn ref_control_step(
            ls: *mut LmLockstruct,
            block_gen: u32,
            start_gen: u32,
            out: *mut RefControlOut,
        );
        pub fn ref_cycle_size() -> c_ulong;
        pub fn ref_cycle_init(c: *mut u64);
        pub fn ref_engine_cycle(c: *mut u64, generation: u32) -> u32;
    }

    /// `struct ref_cycle` (opaque): a mounted node's lock struct and its DLM stand-in.
    pub struct Cycle {
        buf: Box<[u64]>,
        generation: u32,
    }

    impl Cycle {
        /// Jid 1 of 2, mounted at generation 2, as the Rust bench node.
        pub fn new() -> Self {
            // SAFETY: a size query.
            let words = unsafe { ref_cycle_size() } as usize / 8 + 1;
            let mut buf = vec![0u64; words].into_boxed_slice();
            // SAFETY: buf holds a whole, 8-byte aligned struct ref_cycle.
            unsafe { ref_cycle_init(buf.as_mut_ptr()) };
            Cycle { buf, generation: 2 }
        }

        /// One cycle (the next generation); the thaw count so far.
        #[inline]
        pub fn cycle(&mut self) -> u32 {
            self.generation = self.generation.wrapping_add(1);
            // SAFETY: initialised by ref_cycle_init; the C keeps no pointer beyond the
            // lksb's into the same struct.
            unsafe { ref_engine_cycle(self.buf.as_mut_ptr(), self.generation) }
        }
    }

    impl Default for Cycle {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Glocks whose `sb_lvbptr` points into themselves; the vector is never grown
    /// after construction, so the pointers stay valid.
    pub struct Glocks(Vec<Gfs2Glock>);

    impl Glocks {
        /// Take the glocks; those with a non-null `sb_lvbptr` get it pointed at their own `gl_lvb`.
        pub fn new(mut v: Vec<Gfs2Glock>) -> Self {
            for g in v.iter_mut() {
                if !g.gl_lksb.sb_lvbptr.is_null() {
                    g.gl_lksb.sb_lvbptr = g.gl_lvb.as_mut_ptr().cast();
                }
            }
            Glocks(v)
        }
        pub fn len(&self) -> usize {
            self.0.len()
        }
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub fn get(&self, i: usize) -> &Gfs2Glock {
            &self.0[i]
        }
        pub fn get_mut(&mut self, i: usize) -> &mut Gfs2Glock {
            &mut self.0[i]
        }
        /// Glock `i`, to hand to [`crate::c_gdlm_ast_on`].
        pub fn at(&mut self, i: usize) -> GlockMut<'_> {
            GlockMut(&mut self.0[i])
        }
    }

    /// One glock of a [`Glocks`] (its `sb_lvbptr` null or its own `gl_lvb`): a
    /// pointer, as `rs_gdlm_ast` gets its `&mut RsGlock`.
    pub struct GlockMut<'a>(&'a mut Gfs2Glock);

    impl GlockMut<'_> {
        pub(crate) fn as_ptr(&mut self) -> *mut Gfs2Glock {
            self.0
        }
    }

    // The only pointers are into the vector's own elements.
    unsafe impl Send for Glocks {}
}

/// A value alone on its own cache line (64-byte aligned and sized): the benches keep
/// both sides' LVB inputs and outputs in these, so that where the allocator or the
/// stack frame puts them cannot split one side's 16-byte accesses across lines and
/// not the other's.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Line<T>(pub T);

// ---------------------------------------------------------------- C side (safe calls)

/// `gfs2_update_stats` in C.
#[inline]
pub fn c_update_stats(s: &mut ffi::Gfs2Lkstats, index: u32, sample: i64) {
    // SAFETY: `s` is a valid, exclusive gfs2_lkstats; index is 0, 2 or 4.
    unsafe { ffi::ref_update_stats(s, index, sample) }
}

/// `gdlm_ast` in C (returns a `REF_BUG_*` code, 0 when it did not BUG).
#[inline]
pub fn c_gdlm_ast(gls: &mut ffi::Glocks, i: usize) -> i32 {
    c_gdlm_ast_on(gls.at(i))
}

/// [`c_gdlm_ast`] on one glock already picked out.
#[inline]
pub fn c_gdlm_ast_on(mut gl: ffi::GlockMut<'_>) -> i32 {
    // SAFETY: the glock is valid and its sb_lvbptr is null or its own gl_lvb.
    unsafe { ffi::ref_gdlm_ast(gl.as_ptr()) }
}

/// `make_flags` in C: `Ok(lkf)` or `Err(REF_BUG_ANY)`.
#[inline]
pub fn c_make_flags(gl: &ffi::Gfs2Glock, gfs_flags: u32, req: i32) -> Result<u32, i32> {
    let mut lkf = 0u32;
    // SAFETY: valid pointers; the C only reads the glock.
    let r = unsafe { ffi::ref_make_flags(gl, gfs_flags, req, &mut lkf) };
    if r == ffi::REF_OK {
        Ok(lkf)
    } else {
        Err(r)
    }
}

/// The `strname` of `gdlm_lock` in C (25 bytes with the NUL), written into `out`.
#[inline]
pub fn c_lock_name(name: &ffi::LmLockname, out: &mut [u8; 25]) {
    // SAFETY: the C writes exactly GDLM_STRNAME_BYTES (25) bytes.
    unsafe { ffi::ref_lock_name(out.as_mut_ptr().cast(), name) };
}

/// `control_lvb_read` in C: the generation, and the copy written to `bits`.
#[inline]
pub fn c_lvb_read(ls: &ffi::RefLvbLs, bits: &mut [u8; 32]) -> u32 {
    let mut gen = 0u32;
    // SAFETY: both buffers are 32 bytes.
    unsafe { ffi::ref_control_lvb_read(ls, &mut gen, bits.as_mut_ptr().cast()) };
    gen
}

/// `control_lvb_read` in C of bytes of unchecked length, refused (`-EINVAL`) unless
/// there are 32: the generation, and the copy written to `bits`.
#[inline]
pub fn c_lvb_read_checked(raw: &[u8], bits: &mut [u8; 32]) -> Result<u32, i32> {
    let mut gen = 0u32;
    // SAFETY: the C reads `raw.len()` bytes of `raw` at most, and writes 32 into `bits`.
    let r = unsafe {
        ffi::ref_control_lvb_read_checked(
            raw.as_ptr().cast(),
            raw.len(),
            &mut gen,
            bits.as_mut_ptr().cast(),
        )
    };
    if r == 0 {
        Ok(gen)
    } else {
        Err(r)
    }
}

/// `control_lvb_write` in C.
#[inline]
pub fn c_lvb_write(ls: &mut ffi::RefLvbLs, gen: u32, bits: &[u8; 32]) {
    // SAFETY: both buffers are 32 bytes.
    unsafe { ffi::ref_control_lvb_write(ls, gen, bits.as_ptr().cast()) }
}

/// The middle of `gfs2_control_func` in C.
#[inline]
pub fn c_control_step(ls: &mut ffi::LmLockstruct, t: &ControlTicket, out: &mut ffi::RefControlOut) {
    // SAFETY: valid exclusive pointers; recover_size ≤ 192 (checked by the case builders).
    unsafe { ffi::ref_control_step(ls, t.block_gen, t.start_gen, out) }
}

// ---------------------------------------------------------------- Rust side (measured units)

/// `LkStats::update`.
#[no_mangle]
#[inline(never)]
pub fn rs_update_stats(s: &mut LkStats, pair: StatPair, sample: i64) {
    s.update(pair, sample);
}

/// A glock as a gdlm-core caller keeps it: the fields `gdlm_ast` reads and writes
/// back in place ([`AstInput`]), the LVB, and what the AST asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsGlock {
    /// `gl_state`, `gl_req`, `sb_status`, `sb_flags`, LVB present, `GLF_INITIAL`,
    /// `sb_lkid` (the last two written by the AST).
    pub ast: AstInput,
    /// The LVB.
    pub lvb: [u8; 32],
    /// What the AST asked for (`ffi::REF_AST_*`).
    pub action: i32,
    /// The value for `gfs2_glock_complete`.
    pub ret: u32,
}

impl AstGlock for RsGlock {
    fn ast_fields(&mut self) -> &mut AstInput {
        &mut self.ast
    }
    fn zero_lvb(&mut self) {
        self.lvb = [0; 32];
    }
    fn complete(&mut self, ret: u32) {
        self.action = ffi::REF_AST_COMPLETE;
        self.ret = ret;
    }
    fn free(&mut self) {
        self.action = ffi::REF_AST_FREE;
    }
}

/// `gdlm_ast_apply(AstStyle::Reference, …)`: the core completes the glock in place
/// (lkid, GLF_INITIAL, LVB, action and result), as the C does.
#[no_mangle]
#[inline(never)]
pub fn rs_gdlm_ast(gl: &mut RsGlock) -> Result<(), AstError> {
    gdlm_ast_apply(AstStyle::Reference, gl)
}

/// `make_flags(&FlagPolicy::REFERENCE, …)`.
#[no_mangle]
#[inline(never)]
pub fn rs_make_flags(
    gfs_flags: LmFlags,
    req: DlmMode,
    ctx: &LockContext,
) -> Result<DlmLkf, FlagsError> {
    make_flags(&FlagPolicy::REFERENCE, gfs_flags, req, ctx)
}

/// `LockName::encode_into` (reference style): the name written into the caller's
/// `ResName`, as `gdlm_lock` writes its `strname`.
#[no_mangle]
#[inline(never)]
pub fn rs_lock_name(name: &LockName, out: &mut ResName) {
    name.encode_into(NameStyle::Reference, out);
}

/// `LockName::encode`: the same name returned by value.
#[no_mangle]
#[inline(never)]
pub fn rs_lock_name_value(name: &LockName) -> ResName {
    name.encode()
}

/// `control_lvb_read` of a 32-byte LVB (a `&[u8; 32]`, as the DLM hands it back):
/// the generation, and the copy written to `bits`.
#[no_mangle]
#[inline(never)]
pub fn rs_lvb_read(raw: &[u8; 32], bits: &mut ControlLvb) -> u32 {
    control_lvb_read_into(&ControlLvb::from_array(*raw), bits)
}

/// `lvb::control_lvb_read_slice`: the same from bytes of unchecked length (untrusted
/// input), refused unless there are exactly 32.
#[no_mangle]
#[inline(never)]
pub fn rs_lvb_read_slice(raw: &[u8], bits: &mut ControlLvb) -> Result<u32, LvbLengthError> {
    control_lvb_read_slice(raw, bits)
}

/// `control_lvb_write` into the lock's LVB.
#[no_mangle]
#[inline(never)]
pub fn rs_lvb_write(dst: &mut ControlLvb, gen: u32, bits: &ControlLvb) {
    *dst = control_lvb_write(gen, bits);
}

/// A mount's recovery state and the control_lock LVB it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsControl {
    /// The recovery state.
    pub rec: Recovery<JIDS>,
    /// `ls_control_lvb`: granted with EX before the step, written by the NL conversion.
    pub control_lvb: ControlLvb,
}

/// One control step: `control_locked`, then (unless stale) the NL conversion's
/// LVB write and `control_converted`.
#[no_mangle]
#[inline(never)]
pub fn rs_control_step(
    s: &mut RsControl,
    t: &ControlTicket,
) -> (ControlUpdate, Option<ControlFinish>) {
    let mut t = *t;
    let up = s.rec.control_locked(&mut t, &s.control_lvb);
    match up {
        ControlUpdate::Stale(_) => (up, None),
        ControlUpdate::Convert { call, .. } => {
            if let Some(l) = call.lvb {
                s.control_lvb = l;
            }
            let fin = s.rec.control_converted(&t);
            (up, Some(fin))
        }
    }
}

// ---------------------------------------------------------------- cases

pub mod cases;
pub mod outcome;

// ---------------------------------------------------------------- engine

pub mod engine_bench {
    //! The engine's hot paths for the benchmarks: a mounted node (not first mounter)
    //! and its lone-node DLM stand-in, and one whole recovery cycle through
    //! `handle`/`poll`/`handle_timeout` (recover_prep, recover_done, the control work,
    //! control_lock EX with its LVB, the NL conversion, unblocked).

    use gdlm_core::consts::DLM_EUNLOCK;
    use gdlm_core::engine::{
        Action, Config, DlmOp, DlmRequest, Engine, Event, Instant, LockRef, ReplayOutcome,
    };
    use gdlm_core::flags::DlmLkf;
    use gdlm_core::lvb::ControlLvb;
    use gdlm_core::mode::DlmMode;
    use gdlm_core::name::ResName;

    /// A mounted engine plus the DLM state that answers it.
    pub struct Mounted {
        /// The engine (jid 1 of 2).
        pub engine: Engine<192>,
        dlm: StandIn,
        generation: u32,
        now: u64,
        name: ResName,
    }

    /// The DLM stand-in's resource: its LVB and whether the lock is held in EX.
    struct StandIn {
        res_lvb: [u8; 32],
        ex: bool,
    }

    impl StandIn {
        /// The DLM stand-in of the cycle, `ref_dlm_lock` (`c/lock_dlm_ref.c`) in Rust,
        /// out of line as the C's: grant at once; with VALBLK, a down-conversion from
        /// EX stores the caller's LVB (the engine's lksb buffer, lent as the C's
        /// `sb_lvbptr`) in the resource, and every VALBLK call returns the resource's
        /// LVB (the C copies it into the lksb).
        #[inline(never)]
        fn dlm_lock(
            &mut self,
            mode: DlmMode,
            flags: DlmLkf,
            lvb: Option<&ControlLvb>,
        ) -> Option<[u8; 32]> {
            let mut out = None;
            if flags.contains(DlmLkf::VALBLK) {
                if self.ex && mode != DlmMode::Ex {
                    if let Some(l) = lvb {
                        self.res_lvb = *l.as_bytes();
                    }
                }
                out = Some(self.res_lvb);
            }
            self.ex = mode == DlmMode::Ex;
            out
        }
    }

    impl Mounted {
        /// The mount's DLM (setup only): every lock of the mount sequence granted but
        /// the mounted_lock EX, refused with -EAGAIN (somebody else is mounted).
        fn answer_setup(&mut self, req: DlmRequest) -> Event<'static> {
            let lock = req.lock;
            match req.op {
                DlmOp::Unlock => Event::DlmDone {
                    lock,
                    status: -DLM_EUNLOCK,
                    sb_flags: 0,
                    lvb: None,
                },
                DlmOp::Lock { mode, flags } => {
                    if lock == LockRef::Control {
                        let lvb = self.engine.request_lvb(&req);
                        let out = self.dlm.dlm_lock(mode, flags, lvb);
                        return Event::DlmDone {
                            lock,
                            status: 0,
                            sb_flags: 0,
                            lvb: out,
                        };
                    }
                    let status = if lock == LockRef::Mounted && mode == DlmMode::Ex {
                        -11
                    } else {
                        0
                    };
                    Event::DlmDone {
                        lock,
                        status,
                        sb_flags: 0,
                        lvb: None,
                    }
                }
            }
        }

        /// The mount sequence's loop: every action and due timer, answered by
        /// [`Mounted::answer_setup`].
        fn pump_setup(&mut self) {
            let t = Instant::from_millis(self.now);
            for _ in 0..64 {
                if let Some(a) = self.engine.poll() {
                    match a {
                        Action::Dlm(req) => {
                            let ev = self.answer_setup(req);
                            let _ = self.engine.handle(t, ev);
                        }
                        Action::Replay { jid, .. } => {
                            let ev = Event::ReplayDone {
                                jid,
                                outcome: ReplayOutcome::Success,
                            };
                            let _ = self.engine.handle(t, ev);
                        }
                        _ => {}
                    }
                    continue;
                }
                match self.engine.poll_timeout() {
                    Some(at) if at <= t => self.engine.handle_timeout(t),
                    _ => break,
                }
            }
        }

        /// The cycle's loop, what a shim's event loop does: run the due timer (the
        /// queued control work), execute each action, and answer each lock request
        /// through [`Mounted::dlm_lock`] (one call per request, as the C's
        /// `sync_lock` calls `ref_dlm_lock`). A cycle issues only control_lock
        /// requests; anything else is executed as nothing (and the cycle would then
        /// not unblock, which `tests/equivalence.rs` checks). Returns the actions seen.
        pub fn pump(&mut self) -> u32 {
            let mut n = 0;
            let t = Instant::from_millis(self.now);
            for _ in 0..64 {
                if let Some(a) = self.engine.poll() {
                    n += 1;
                    if let Action::Dlm(
                        req @ DlmRequest {
                            op: DlmOp::Lock { mode, flags },
                            ..
                        },
                    ) = a
                    {
                        // The resource name, as lock_dlm's sync_lock builds it for
                        // dlm_lock (the C side builds its strname too).
                        self.name = req.name();
                        let lvb = self.engine.request_lvb(&req);
                        let out = self.dlm.dlm_lock(mode, flags, lvb);
                        let _ = self.engine.handle(
                            t,
                            Event::DlmDone {
                                lock: req.lock,
                                status: 0,
                                sb_flags: 0,
                                lvb: out,
                            },
                        );
                    }
                    continue;
                }
                match self.engine.poll_timeout() {
                    Some(at) if at <= t => self.engine.handle_timeout(t),
                    _ => break,
                }
            }
            n
        }

        /// A second node (slot 2) mounted at generation 2 under another node's LVB.
        pub fn new() -> Self {
            let mut lvb = [0u8; 32];
            lvb[0] = 2;
            let mut m = Mounted {
                engine: Engine::new(Config::default()),
                dlm: StandIn {
                    res_lvb: lvb,
                    ex: false,
                },
                generation: 2,
                now: 0,
                name: gdlm_core::name::LockName::default().encode(),
            };
            let _ = m.engine.handle(Instant::ZERO, Event::Mount { journals: 2 });
            let _ = m.engine.handle(
                Instant::ZERO,
                Event::RecoverDone {
                    slots: &[1, 2],
                    our_slot: 2,
                    generation: 2,
                },
            );
            let _ = m.engine.handle(Instant::ZERO, Event::LockspaceJoined);
            m.pump_setup();
            m.now = 500;
            m.pump_setup();
            m
        }

        /// Mounted with locking unblocked.
        pub fn ok(&self) -> bool {
            self.engine.accessing()
        }
    }

    impl Default for Mounted {
        fn default() -> Self {
            Self::new()
        }
    }

    /// One recovery cycle with nothing to recover (another node's join): prep, done,
    /// the control step through the engine, unblocked. Returns the actions executed.
    #[no_mangle]
    #[inline(never)]
    pub fn rs_engine_cycle(m: &mut Mounted) -> u32 {
        m.generation = m.generation.wrapping_add(1);
        let t = Instant::from_millis(m.now);
        let _ = m.engine.handle(t, Event::RecoverPrep);
        let _ = m.engine.handle(
            t,
            Event::RecoverDone {
                slots: &[1, 2],
                our_slot: 2,
                generation: m.generation,
            },
        );
        m.pump()
    }
}
