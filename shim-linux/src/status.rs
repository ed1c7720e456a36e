// SPDX-License-Identifier: GPL-2.0-only
//! `gdlm status`: what a lockspace's recovery state is, from what the kernel already
//! publishes, without taking a lock or joining anything.
//!
//! [`gather`] reads the files ([`Sources`]): the DLM's debugfs (`/sys/kernel/debug/dlm/LS_all`,
//! `LS_locks`, `LS_waiters`, parsed by [`crate::debugfs`]), sysfs (`/sys/kernel/dlm/LS/`: `id`,
//! `nodir`, `recover_status`, `recover_nodeid`; `control` and `event_done` are write-only),
//! configfs (`/sys/kernel/config/dlm/cluster/spaces/LS/nodes/*`, the members dlm_controld
//! gave the DLM, and `comms/*/local` for this node's id), gfs2's
//! `/sys/fs/gfs2/CLUSTER:LS/lock_module/*`, and the kernel log (`/dev/kmsg`: the DLM's
//! `generation G slots ...` and `dlm_recover N ...` lines, lock_dlm's `recover ...` lines).
//! Everything under a root directory, so a copy of those trees (a fixture) reads the same.
//!
//! [`analyze`] (pure) turns them into a [`Status`]: members with node ids and slots,
//! generations, the control_lock LVB decoded with gdlm-core's [`ControlLvb`] when this node
//! masters that resource (only the master's copy of an LVB is current), who holds
//! mounted_lock and each journal lock (`LM_TYPE_JOURNAL` = 9, number = jid), whether the
//! DLM or gfs2 blocks locking, and what recovery waits for. Facts that live on another node
//! are marked as such; `gdlm status --probe` may add an NL read of control_lock
//! ([`Probe`]), which conflicts with no mode.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use gdlm_core::consts::{LM_RD_GAVEUP, LM_RD_SUCCESS};
use gdlm_core::recovery::LockId as CoreLock;
use gdlm_core::{ControlLvb, LockName};
use serde::Serialize;

use crate::debugfs::{self, mode_name, Queue, Rsb, Waiter};

/// gfs2's `LM_TYPE_JOURNAL` (fs/gfs2/glock.h): a journal lock's type; its number is the jid.
pub const LM_TYPE_JOURNAL: u32 = 0x09;

/// The most kernel-log records read (a bound on `/dev/kmsg`).
const KMSG_MAX_RECORDS: usize = 1 << 18;

/// `DLM_RS_*` (fs/dlm/dlm_internal.h): the stages of `ls_recover_status`.
pub mod rs {
    /// `DLM_RS_NODES`: members recovered here.
    pub const NODES: u32 = 0x01;
    /// `DLM_RS_NODES_ALL`: every member has (set on the low node).
    pub const NODES_ALL: u32 = 0x02;
    /// `DLM_RS_DIR`: directory rebuilt here.
    pub const DIR: u32 = 0x04;
    /// `DLM_RS_DIR_ALL`.
    pub const DIR_ALL: u32 = 0x08;
    /// `DLM_RS_LOCKS`: locks recovered here.
    pub const LOCKS: u32 = 0x10;
    /// `DLM_RS_LOCKS_ALL`.
    pub const LOCKS_ALL: u32 = 0x20;
    /// `DLM_RS_DONE`: this node finished recovery.
    pub const DONE: u32 = 0x40;
    /// `DLM_RS_DONE_ALL`.
    pub const DONE_ALL: u32 = 0x80;
}

/// `/sys/kernel/dlm/LS/` (fs/dlm/lockspace.c, the readable attributes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysfsDlm {
    /// `id` (`%u`, the lockspace's global id).
    pub id: Option<u32>,
    /// `nodir`.
    pub nodir: Option<u32>,
    /// `recover_status` (`%x`, `DLM_RS_*`; 0 after `dlm_ls_stop`).
    pub recover_status: Option<u32>,
    /// `recover_nodeid` (`%d`, the node the last recovery message went to).
    pub recover_nodeid: Option<i32>,
}

/// `/sys/kernel/config/dlm/cluster/spaces/LS/nodes/N/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigNode {
    /// `nodeid`.
    pub nodeid: i32,
    /// `weight`.
    pub weight: Option<i32>,
}

/// `/sys/fs/gfs2/TABLE/lock_module/` (fs/gfs2/sys.c, the lock_dlm attributes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gfs2Files {
    /// The lock table (`CLUSTER:FSNAME`, the directory's name).
    pub table: String,
    /// `proto_name`.
    pub proto_name: Option<String>,
    /// `jid` (`ls_jid`).
    pub jid: Option<i32>,
    /// `first` (`ls_first`: this node mounted first).
    pub first: Option<i32>,
    /// `first_done` (`DFL_FIRST_MOUNT_DONE`).
    pub first_done: Option<i32>,
    /// `block` (`DFL_BLOCK_LOCKS`: glock requests held back).
    pub block: Option<i32>,
    /// `recover_done` (`ls_recover_jid_done`: the last journal recovered).
    pub recover_done: Option<i32>,
    /// `recover_status` (`ls_recover_jid_status`: its `LM_RD_*` result).
    pub recover_status: Option<i32>,
    /// `withdraw`.
    pub withdraw: Option<i32>,
}

/// Everything [`gather`] read (`None`: the file is absent or unreadable).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `LS_all`.
    pub all: Option<String>,
    /// `LS_locks`.
    pub locks: Option<String>,
    /// `LS_waiters`.
    pub waiters: Option<String>,
    /// `/sys/kernel/debug/dlm` exists (debugfs is mounted and the dlm module loaded).
    pub debugfs: bool,
    /// `/sys/kernel/dlm/LS/` (None: this node is not in the lockspace).
    pub sysfs: Option<SysfsDlm>,
    /// configfs members.
    pub nodes: Vec<ConfigNode>,
    /// This node's id (the configfs comm with `local` = 1).
    pub local_nodeid: Option<i32>,
    /// The gfs2 mount on this lockspace.
    pub gfs2: Option<Gfs2Files>,
    /// The kernel log, one `/dev/kmsg` record per line.
    pub kmsg: Option<String>,
}

/// The result of `--probe`: control_lock's LVB read with a new NL lock with VALBLK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The LVB.
    pub lvb: [u8; 32],
    /// `DLM_SBF_VALNOTVALID` was set.
    pub valnotvalid: bool,
}

fn read(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok()
}

fn read_num<T: std::str::FromStr>(p: &Path) -> Option<T> {
    read(p)?.trim().parse().ok()
}

fn read_hex(p: &Path) -> Option<u32> {
    u32::from_str_radix(read(p)?.trim(), 16).ok()
}

fn dirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(p) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// Reads the kernel log without blocking: each `read` of `/dev/kmsg` returns one record,
/// `EAGAIN` at the end, `EPIPE` when a record was overwritten meanwhile (skipped). A plain
/// file (a fixture) is read to its end.
fn read_kmsg(p: &Path) -> Option<String> {
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)
        .ok()?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    for _ in 0..KMSG_MAX_RECORDS {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The lockspaces this node is in (`/sys/kernel/dlm/*` under `root`), sorted.
pub fn lockspaces(root: &Path) -> Vec<String> {
    dirs(&root.join("sys/kernel/dlm"))
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect()
}

/// Reads every source for lockspace `ls` under `root` (`/` on a live system). Only reads:
/// no lock, no lockspace open, nothing written.
pub fn gather(root: &Path, ls: &str) -> Sources {
    let dbg = root.join("sys/kernel/debug/dlm");
    let sys = root.join("sys/kernel/dlm").join(ls);
    let cfg = root.join("sys/kernel/config/dlm/cluster");
    let sysfs = sys.is_dir().then(|| SysfsDlm {
        id: read_num(&sys.join("id")),
        nodir: read_num(&sys.join("nodir")),
        recover_status: read_hex(&sys.join("recover_status")),
        recover_nodeid: read_num(&sys.join("recover_nodeid")),
    });
    let nodes = dirs(&cfg.join("spaces").join(ls).join("nodes"))
        .iter()
        .filter_map(|d| {
            let nodeid =
                read_num(&d.join("nodeid")).or_else(|| d.file_name()?.to_str()?.parse().ok())?;
            Some(ConfigNode {
                nodeid,
                weight: read_num(&d.join("weight")),
            })
        })
        .collect();
    let local_nodeid = dirs(&cfg.join("comms"))
        .iter()
        .find(|d| read_num::<i32>(&d.join("local")) == Some(1))
        .and_then(|d| read_num(&d.join("nodeid")));
    let gfs2 = dirs(&root.join("sys/fs/gfs2"))
        .into_iter()
        .find(|d| {
            let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.split_once(':').map(|(_, fs)| fs) == Some(ls) && d.join("lock_module").is_dir()
        })
        .map(|d| {
            let lm = d.join("lock_module");
            Gfs2Files {
                table: d
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_string(),
                proto_name: read(&lm.join("proto_name")).map(|s| s.trim().to_string()),
                jid: read_num(&lm.join("jid")),
                first: read_num(&lm.join("first")),
                first_done: read_num(&lm.join("first_done")),
                block: read_num(&lm.join("block")),
                recover_done: read_num(&lm.join("recover_done")),
                recover_status: read_num(&lm.join("recover_status")),
                withdraw: read_num(&lm.join("withdraw")),
            }
        });
    Sources {
        all: read(&dbg.join(format!("{ls}_all"))),
        locks: read(&dbg.join(format!("{ls}_locks"))),
        waiters: read(&dbg.join(format!("{ls}_waiters"))),
        debugfs: dbg.is_dir(),
        sysfs,
        nodes,
        local_nodeid,
        gfs2,
        kmsg: read_kmsg(&root.join("dev/kmsg")),
    }
}

/// One lock on a resource, as this node's debugfs shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The holder's node id (`None` if this node's own id is not known).
    pub nodeid: Option<i32>,
    /// The lock is this node's.
    pub local: bool,
    /// The owning process on this node (0 for a kernel user such as gfs2).
    pub pid: Option<u32>,
    /// Granted mode (`--` while nothing is granted).
    pub granted: &'static str,
    /// Requested mode while waiting or converting.
    pub requested: Option<&'static str>,
    /// The queue it is on.
    pub queue: Queue,
    /// Microseconds on that queue (`LS_locks`).
    pub queued_us: Option<u64>,
}

/// Where a resource's master is, from this node's copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "nodeid", rename_all = "lowercase")]
pub enum Master {
    /// This node masters it: its LVB and lock list here are the whole truth.
    Here,
    /// Node N does; only this node's own locks are listed here.
    Node(i32),
    /// The master is being looked up.
    Lookup,
    /// No copy of the resource on this node (it has no lock on it and does not master it).
    Absent,
}

/// One resource this status looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// The resource name (gfs2's `%8x%16x`).
    pub name: String,
    /// Where its master is.
    pub master: Master,
    /// Its locks known here.
    pub holders: Vec<Holder>,
}

/// The control_lock LVB (`control_lvb_read`), decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LvbView {
    /// Where it was read: `debugfs` (the master's copy) or `probe` (an NL request).
    pub source: &'static str,
    /// The generation (`lvb_gen`).
    pub generation: u32,
    /// Generation `0xFFFFFFFF`: mounts disabled.
    pub disabled: bool,
    /// Jids whose bit is set: journals needing recovery.
    pub jids: Vec<u32>,
    /// The DLM marked it invalid (its last writer failed).
    pub invalid: bool,
    /// The 32 bytes, hex.
    pub hex: String,
}

/// A journal (`LM_TYPE_JOURNAL` lock), what this node knows of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Journal {
    /// The jid.
    pub jid: u32,
    /// Its bit in the control_lock LVB (`None`: the LVB is not known here).
    pub needs_recovery: Option<bool>,
    /// gfs2's jid on this node.
    pub ours: bool,
    /// Its lock.
    pub lock: Resource,
}

/// A member of the lockspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Node id.
    pub nodeid: i32,
    /// This node.
    pub local: bool,
    /// The DLM slot (from the kernel log's last `generation G slots ...`; jid = slot - 1).
    pub slot: Option<i32>,
    /// configfs `weight`.
    pub weight: Option<i32>,
}

/// The DLM's lockspace state (sysfs and the kernel log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DlmState {
    /// Lockspace global id.
    pub id: Option<u32>,
    /// `recover_status` (`DLM_RS_*`).
    pub recover_status: Option<u32>,
    /// `recover_nodeid`.
    pub recover_nodeid: Option<i32>,
    /// The recovery stage in words.
    pub stage: String,
    /// Locking is stopped for DLM recovery (`recover_status` lacks `DLM_RS_DONE`).
    pub blocked: Option<bool>,
    /// Kernel-log time (µs since boot) of the `dlm_recover N` that is still running.
    pub blocked_since_us: Option<u64>,
    /// The DLM generation of the last `generation G slots ...` line.
    pub generation: Option<u32>,
    /// The last completed `dlm_recover` sequence number.
    pub last_recover_seq: Option<u64>,
}

/// gfs2's lock_dlm state on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gfs2State {
    /// Lock table.
    pub table: String,
    /// Our jid.
    pub jid: Option<i32>,
    /// We were the first mounter.
    pub first: Option<bool>,
    /// First mount done.
    pub first_done: Option<bool>,
    /// `DFL_BLOCK_LOCKS`: glock requests blocked until the control step finishes.
    pub blocked: Option<bool>,
    /// The last journal recovered here and its result (`LM_RD_*`).
    pub recover_done: Option<i32>,
    /// Its `LM_RD_*` result.
    pub recover_status: Option<i32>,
    /// Withdrawn.
    pub withdrawn: Option<bool>,
    /// lock_dlm's last `recover ...` lines from the kernel log (up to 6).
    pub log: Vec<String>,
}

/// The whole status of a lockspace on this node.
///
/// The first fields (`lockspace`, `generation`, `disabled`, `jids`) are those of the former
/// `gdlm inspect --json`, null when this node cannot see the LVB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The lockspace.
    pub lockspace: String,
    /// The control_lock LVB generation.
    pub generation: Option<u32>,
    /// Mounts disabled.
    pub disabled: Option<bool>,
    /// Jids needing recovery.
    pub jids: Option<Vec<u32>>,
    /// Some node holds mounted_lock (a gfs2 mount) — `None`: not visible here.
    pub mounted: Option<bool>,
    /// This node is in the lockspace.
    pub member: bool,
    /// This node's id.
    pub nodeid: Option<i32>,
    /// Members (configfs, slots from the kernel log).
    pub members: Vec<Member>,
    /// DLM state (when this node is in the lockspace).
    pub dlm: Option<DlmState>,
    /// gfs2 on this lockspace.
    pub gfs2: Option<Gfs2State>,
    /// The control_lock LVB, when this node can see it.
    pub lvb: Option<LvbView>,
    /// control_lock.
    pub control_lock: Resource,
    /// mounted_lock.
    pub mounted_lock: Resource,
    /// Journals known here.
    pub journals: Vec<Journal>,
    /// Locks waiting for another node's reply (`LS_waiters`).
    pub waiters: Vec<Waiter>,
    /// What recovery waits for, one line each (empty: nothing).
    pub waiting_for: Vec<String>,
    /// What this node cannot see, and why.
    pub notes: Vec<String>,
}

/// One kernel-log record: time (µs since boot) and text.
fn kmsg_records(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.lines().filter_map(|l| {
        if l.starts_with(' ') {
            return None; // a record's KEY=value continuation line
        }
        let (head, msg) = l.split_once(';')?;
        let ts = head.split(',').nth(2)?.parse().ok()?;
        Some((ts, msg))
    })
}

/// What the kernel log says about lockspace `ls`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFacts {
    /// The last `generation G slots N S:N ...`: G and the (slot, nodeid) pairs.
    pub slots: Option<(u32, Vec<(i32, i32)>)>,
    /// The last `dlm_recover SEQ` start (seq, time) with no `done` after it.
    pub running: Option<(u64, u64)>,
    /// The last `dlm_recover SEQ generation G done`.
    pub done: Option<(u64, u32)>,
    /// lock_dlm's `recover ...` / `first mounter ...` lines for this lockspace.
    pub gfs2: Vec<String>,
    /// The jids of lock_dlm's last `recover generation G jid J` lines not followed by
    /// `recover jid J result success` or `recover generation G' done` (G' >= G): G and jids.
    pub gfs2_pending: Option<(u32, Vec<u32>)>,
}

/// Reads the DLM's and lock_dlm's lines for `ls` (fs/dlm/member.c `log_slots`,
/// fs/dlm/recoverd.c `ls_recover`, fs/gfs2/lock_dlm.c `fs_info`).
pub fn log_facts(kmsg: &str, ls: &str) -> LogFacts {
    let dlm = format!("dlm: {ls}: ");
    let mut f = LogFacts::default();
    for (ts, msg) in kmsg_records(kmsg) {
        if let Some(m) = msg.strip_prefix(&dlm) {
            let t: Vec<&str> = m.split(' ').collect();
            match t.as_slice() {
                ["generation", g, "slots", _n, pairs @ ..] => {
                    let Ok(g) = g.parse() else { continue };
                    let pairs = pairs
                        .iter()
                        .filter_map(|p| {
                            let (s, n) = p.split_once(':')?;
                            Some((s.parse().ok()?, n.parse().ok()?))
                        })
                        .collect();
                    f.slots = Some((g, pairs));
                }
                ["dlm_recover", seq] => {
                    if let Ok(seq) = seq.parse() {
                        f.running = Some((seq, ts));
                    }
                }
                ["dlm_recover", seq, "generation", g, "done:", ..] => {
                    if let (Ok(seq), Ok(g)) = (seq.parse(), g.parse()) {
                        f.done = Some((seq, g));
                        if f.running.map(|r| r.0) == Some(seq) {
                            f.running = None;
                        }
                    }
                }
                _ => {}
            }
        } else if let Some(rest) = msg.strip_prefix("gfs2: fsid=") {
            // "gfs2: fsid=CLUSTER:LS[.JID]: text"
            let Some((fsid, text)) = rest.split_once(": ") else {
                continue;
            };
            let fs = fsid.split_once(':').map(|(_, f)| f).unwrap_or("");
            let fs = fs.split('.').next().unwrap_or("");
            if fs == ls
                && (text.starts_with("recover ")
                    || text.starts_with("first mounter")
                    || text.starts_with("control_mount wait"))
            {
                let text = text.trim_end();
                f.gfs2.push(text.to_string());
                let t: Vec<&str> = text.split(' ').collect();
                match t.as_slice() {
                    ["recover", "generation", g, "jid", j] => {
                        if let (Ok(g), Ok(j)) = (g.parse::<u32>(), j.parse::<u32>()) {
                            let p = f.gfs2_pending.get_or_insert((g, Vec::new()));
                            if p.0 != g {
                                *p = (g, Vec::new());
                            }
                            if !p.1.contains(&j) {
                                p.1.push(j);
                            }
                        }
                    }
                    ["recover", "generation", g, "done"] => {
                        if let Ok(g) = g.parse::<u32>() {
                            if f.gfs2_pending.as_ref().is_some_and(|p| p.0 <= g) {
                                f.gfs2_pending = None;
                            }
                        }
                    }
                    ["recover", "jid", j, "result", "success"] => {
                        if let (Ok(j), Some(p)) = (j.parse::<u32>(), f.gfs2_pending.as_mut()) {
                            p.1.retain(|&x| x != j);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    f
}

fn stage(status: u32, nodeid: Option<i32>) -> String {
    let on = |n: Option<i32>| match n {
        Some(n) if n > 0 => format!(" (last message to node {n})"),
        _ => String::new(),
    };
    if status == 0 {
        return "stopped: dlm_controld has not started recovery (waiting for quorum, fencing, or the other members to stop)".into();
    }
    if status & rs::DONE != 0 {
        return "running (recovery done)".into();
    }
    let step = if status & rs::LOCKS != 0 {
        "locks recovered here, waiting for the other members (DLM_RS_LOCKS_ALL)"
    } else if status & rs::DIR != 0 {
        "directory rebuilt, recovering masters and locks"
    } else if status & rs::NODES != 0 {
        "members recovered, rebuilding the resource directory"
    } else {
        "recovering members"
    };
    format!("recovering: {step}{}", on(nodeid))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn name_text(n: &[u8]) -> String {
    String::from_utf8_lossy(n).into_owned()
}

fn holders(r: &Rsb, me: Option<i32>, ages: &[debugfs::LockAge]) -> Vec<Holder> {
    r.locks
        .iter()
        .map(|k| {
            // On the master, lkb_nodeid is 0 for our own locks and the holder's id for the
            // master copies of other nodes' locks; on a local copy every lock is ours.
            let local = !r.is_master() || k.nodeid == 0;
            let q = k.queue();
            Holder {
                nodeid: if local { me } else { Some(k.nodeid) },
                local,
                pid: local.then_some(k.ownpid),
                granted: mode_name(k.grmode),
                requested: matches!(q, Queue::Waiting | Queue::Converting | Queue::Lookup)
                    .then(|| mode_name(k.rqmode)),
                queue: q,
                queued_us: ages
                    .iter()
                    .find(|a| a.id == k.id && a.name == r.name)
                    .map(|a| a.queued_us),
            }
        })
        .collect()
}

fn resource(rsbs: &[Rsb], name: &[u8], me: Option<i32>, ages: &[debugfs::LockAge]) -> Resource {
    let text = name_text(name);
    match rsbs.iter().find(|r| r.name == name) {
        None => Resource {
            name: text,
            master: Master::Absent,
            holders: Vec::new(),
        },
        Some(r) => Resource {
            name: text,
            master: match r.nodeid {
                0 => Master::Here,
                n if n > 0 => Master::Node(n),
                _ => Master::Lookup,
            },
            holders: holders(r, me, ages),
        },
    }
}

/// Builds the status of `ls` from what [`gather`] read (and a `--probe` result).
pub fn analyze(ls: &str, src: &Sources, probe: Option<Probe>) -> Status {
    let mut notes = Vec::new();
    let me = src.local_nodeid;
    let rsbs = match src.all.as_deref().map(debugfs::parse_all) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            notes.push(format!("{ls}_all: unreadable format ({e})"));
            Vec::new()
        }
        None => {
            if src.sysfs.is_some() {
                notes.push(if src.debugfs {
                    format!("no /sys/kernel/debug/dlm/{ls}_all: locks are not visible")
                } else {
                    "debugfs is not mounted (mount -t debugfs none /sys/kernel/debug): locks and the LVB are not visible".into()
                });
            }
            Vec::new()
        }
    };
    let ages = match src.locks.as_deref().map(debugfs::parse_locks) {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            notes.push(format!("{ls}_locks: unreadable format ({e})"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let waiters = match src.waiters.as_deref().map(debugfs::parse_waiters) {
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            notes.push(format!("{ls}_waiters: unreadable format ({e})"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let facts = src.kmsg.as_deref().map(|k| log_facts(k, ls));

    // control_lock: its LVB is current only in the master's copy.
    let control_name = CoreLock::Control.name();
    let control = resource(&rsbs, control_name.as_bytes(), me, &ages);
    let control_rsb = rsbs.iter().find(|r| r.name == control_name.as_bytes());
    let mut lvb = None;
    if let Some((_, bytes)) = control_rsb
        .filter(|r| r.is_master())
        .and_then(|r| r.lvb.as_ref())
    {
        if let Ok(v) = ControlLvb::from_bytes(bytes) {
            lvb = Some((v, "debugfs", control_rsb.is_some_and(Rsb::lvb_invalid)));
        }
    }
    if let Some(p) = probe {
        lvb = Some((ControlLvb::from_array(p.lvb), "probe", p.valnotvalid));
    }
    let lvb = lvb.map(|(v, source, invalid)| LvbView {
        source,
        generation: v.generation(),
        disabled: v.is_disabled(),
        jids: v.jids().iter().collect(),
        invalid,
        hex: hex(v.as_bytes()),
    });
    if lvb.is_none() && src.sysfs.is_some() && !rsbs.is_empty() {
        notes.push(match control.master {
            Master::Node(n) => format!(
                "the control_lock LVB lives on node {n} (its master): run `gdlm status {ls}` there, or add --probe here (an NL read of control_lock)"
            ),
            _ => "control_lock has no master copy here: its LVB is on another node; --probe reads it with an NL request".to_string(),
        });
    }

    let mounted_name = CoreLock::Mounted.name();
    let mounted_lock = resource(&rsbs, mounted_name.as_bytes(), me, &ages);
    let held = |r: &Resource| {
        r.holders
            .iter()
            .any(|h| matches!(h.queue, Queue::Granted | Queue::Converting) && h.granted != "NL")
    };
    let mounted = match mounted_lock.master {
        Master::Here => Some(held(&mounted_lock)),
        _ if held(&mounted_lock) => Some(true),
        _ => None,
    };

    // journals: every journal lock resource here, every LVB bit, our own jid
    let gfs2_jid = src
        .gfs2
        .as_ref()
        .and_then(|g| g.jid)
        .and_then(|j| u32::try_from(j).ok());
    let mut jids: Vec<u32> = rsbs
        .iter()
        .filter_map(|r| LockName::decode(&r.name).ok())
        .filter(|n| n.ln_type == LM_TYPE_JOURNAL)
        .filter_map(|n| u32::try_from(n.ln_number).ok())
        .collect();
    jids.extend(lvb.iter().flat_map(|l| l.jids.iter().copied()));
    jids.extend(gfs2_jid);
    let logged: Vec<u32> = facts
        .as_ref()
        .and_then(|f| f.gfs2_pending.as_ref())
        .map(|p| p.1.clone())
        .unwrap_or_default();
    jids.extend(logged.iter().copied());
    jids.sort_unstable();
    jids.dedup();
    let journals: Vec<Journal> = jids
        .iter()
        .map(|&jid| {
            let name = LockName::new(LM_TYPE_JOURNAL, u64::from(jid)).encode();
            Journal {
                jid,
                needs_recovery: lvb.as_ref().map(|l| l.jids.contains(&jid)),
                ours: gfs2_jid == Some(jid),
                lock: resource(&rsbs, name.as_bytes(), me, &ages),
            }
        })
        .collect();

    let slots = facts.as_ref().and_then(|f| f.slots.clone());
    let mut members: Vec<Member> = src
        .nodes
        .iter()
        .map(|n| Member {
            nodeid: n.nodeid,
            local: Some(n.nodeid) == me,
            slot: slots
                .as_ref()
                .and_then(|(_, s)| s.iter().find(|p| p.1 == n.nodeid).map(|p| p.0)),
            weight: n.weight,
        })
        .collect();
    members.sort_by_key(|m| m.nodeid);

    let dlm = src.sysfs.as_ref().map(|s| DlmState {
        id: s.id,
        recover_status: s.recover_status,
        recover_nodeid: s.recover_nodeid,
        stage: s
            .recover_status
            .map(|st| stage(st, s.recover_nodeid))
            .unwrap_or_else(|| "unknown".into()),
        blocked: s.recover_status.map(|st| st & rs::DONE == 0),
        blocked_since_us: facts.as_ref().and_then(|f| f.running).map(|r| r.1),
        generation: slots.as_ref().map(|s| s.0),
        last_recover_seq: facts.as_ref().and_then(|f| f.done).map(|d| d.0),
    });
    if src.sysfs.is_none() {
        notes.push(format!(
            "this node is not in lockspace {ls} (no /sys/kernel/dlm/{ls}); nothing was joined to look"
        ));
    }

    let gfs2 = src.gfs2.as_ref().map(|g| Gfs2State {
        table: g.table.clone(),
        jid: g.jid,
        first: g.first.map(|v| v != 0),
        first_done: g.first_done.map(|v| v != 0),
        blocked: g.block.map(|v| v != 0),
        recover_done: g.recover_done,
        recover_status: g.recover_status,
        withdrawn: g.withdraw.map(|v| v != 0),
        log: facts
            .as_ref()
            .map(|f| f.gfs2.iter().rev().take(6).rev().cloned().collect())
            .unwrap_or_default(),
    });

    let mut waiting_for = Vec::new();
    if let Some(d) = &dlm {
        if d.blocked == Some(true) {
            waiting_for.push(format!("the DLM: {}", d.stage));
        }
    }
    if let Some(g) = &gfs2 {
        if g.blocked == Some(true) && dlm.as_ref().and_then(|d| d.blocked) != Some(true) {
            waiting_for.push(
                "gfs2's control step (gfs2_control_func): glocks stay blocked until the jids in the control_lock LVB are recovered"
                    .into(),
            );
        }
    }
    for j in journals.iter().filter(|j| j.needs_recovery == Some(true)) {
        let by: Vec<String> = j
            .lock
            .holders
            .iter()
            .filter(|h| h.queue == Queue::Granted && h.granted != "NL")
            .map(who)
            .collect();
        waiting_for.push(if by.is_empty() {
            format!(
                "journal {}: its recovery (a member takes its lock with NOQUEUE and replays it)",
                j.jid
            )
        } else {
            format!(
                "journal {}: its lock is held {} by {}, so each member's recovery gives up (\"busy\") and retries every second",
                j.jid,
                j.lock
                    .holders
                    .iter()
                    .find(|h| h.queue == Queue::Granted)
                    .map(|h| h.granted)
                    .unwrap_or("--"),
                by.join(", ")
            )
        });
    }
    if lvb.is_none() {
        if let Some((g, pending)) = facts.as_ref().and_then(|f| f.gfs2_pending.as_ref()) {
            for j in pending {
                waiting_for.push(format!(
                    "journal {j}: gfs2 here logged `recover generation {g} jid {j}` and no success or `done` since (kernel log; the LVB is not visible here)"
                ));
            }
        }
    }
    if lvb.as_ref().is_some_and(|l| l.disabled) {
        waiting_for.push("mounts are disabled (LVB generation 0xFFFFFFFF): a first mounter failed before control_first_done".into());
    }

    Status {
        lockspace: ls.to_string(),
        generation: lvb.as_ref().map(|l| l.generation),
        disabled: lvb.as_ref().map(|l| l.disabled),
        jids: lvb.as_ref().map(|l| l.jids.clone()),
        mounted,
        member: src.sysfs.is_some(),
        nodeid: me,
        members,
        dlm,
        gfs2,
        lvb,
        control_lock: control,
        mounted_lock,
        journals,
        waiters,
        waiting_for,
        notes,
    }
}

fn who(h: &Holder) -> String {
    let node = h.nodeid.map(|n| format!("node {n}"));
    match (node, h.local, h.pid) {
        (Some(n), true, Some(p)) if p != 0 => format!("{n} (this node, pid {p})"),
        (Some(n), true, _) => format!("{n} (this node)"),
        (None, _, Some(p)) if p != 0 => format!("this node (pid {p})"),
        (None, _, _) => "this node".into(),
        (Some(n), false, _) => n,
    }
}

fn holder_line(h: &Holder) -> String {
    let mut s = format!("{} {}", h.granted, who(h));
    match h.queue {
        Queue::Granted => {}
        q => {
            let q = match q {
                Queue::Waiting => "waiting for",
                Queue::Converting => "converting to",
                Queue::Lookup => "looking up the master for",
                _ => "requesting",
            };
            s = format!(
                "{} {}",
                s,
                format_args!("{q} {}", h.requested.unwrap_or("??"))
            );
        }
    }
    if let (Some(us), false) = (h.queued_us, h.queue == Queue::Granted) {
        s.push_str(&format!(" for {:.1} s", us as f64 / 1e6));
    }
    s
}

fn master_text(m: Master) -> String {
    match m {
        Master::Here => "mastered here".into(),
        Master::Node(n) => format!("master is node {n} (only this node's locks are listed)"),
        Master::Lookup => "master being looked up".into(),
        Master::Absent => "no copy on this node".into(),
    }
}

fn resource_lines(r: &Resource) -> String {
    let mut s = master_text(r.master);
    if r.master == Master::Absent {
        return s;
    }
    if r.holders.is_empty() {
        s.push_str("; no locks");
    }
    for h in &r.holders {
        s.push_str(&format!("\n      {}", holder_line(h)));
    }
    s
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

impl Status {
    /// The status as JSON (serde_json).
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
    }

    /// The status for a person.
    pub fn human(&self) -> String {
        let mut o = String::new();
        let mut line = |s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        line(format!(
            "lockspace {}: {}",
            self.lockspace,
            match (self.member, self.nodeid) {
                (true, Some(n)) => format!("this node (node {n}) is a member"),
                (true, None) => "this node is a member".into(),
                (false, Some(n)) => format!("this node (node {n}) is not a member"),
                (false, None) => "this node is not a member".into(),
            }
        ));
        if !self.members.is_empty() {
            let m: Vec<String> = self
                .members
                .iter()
                .map(|m| {
                    let mut s = format!("node {}", m.nodeid);
                    match (m.slot, m.local) {
                        (Some(sl), true) => {
                            s.push_str(&format!(" (slot {sl}, jid {}, this node)", sl - 1))
                        }
                        (Some(sl), false) => s.push_str(&format!(" (slot {sl}, jid {})", sl - 1)),
                        (None, true) => s.push_str(" (this node)"),
                        (None, false) => {}
                    }
                    s
                })
                .collect();
            line(format!("  members      {}", m.join(", ")));
        }
        if let Some(d) = &self.dlm {
            let mut s = format!(
                "  dlm          {}; recover_status {}",
                d.stage,
                d.recover_status
                    .map(|v| format!("{v:#x}"))
                    .unwrap_or_else(|| "?".into())
            );
            if let Some(g) = d.generation {
                s.push_str(&format!("; generation {g}"));
            }
            if let Some(t) = d.blocked_since_us {
                s.push_str(&format!(
                    "; locking blocked since {:.3} s after boot",
                    t as f64 / 1e6
                ));
            } else if d.blocked == Some(false) {
                s.push_str("; locking not blocked");
            }
            line(s);
        }
        if let Some(g) = &self.gfs2 {
            line(format!(
                "  gfs2         {}: jid {}, first {}, first_done {}, {}, last recovered jid {} (result {}){}",
                g.table,
                opt(g.jid),
                opt(g.first.map(u8::from)),
                opt(g.first_done.map(u8::from)),
                match g.blocked {
                    Some(true) => "glocks blocked (block 1)",
                    Some(false) => "glocks not blocked",
                    None => "block ?",
                },
                opt(g.recover_done),
                match g.recover_status.and_then(|v| u32::try_from(v).ok()) {
                    Some(LM_RD_SUCCESS) => "success".to_string(),
                    Some(LM_RD_GAVEUP) => "gaveup".to_string(),
                    v => opt(v),
                },
                if g.withdrawn == Some(true) { ", WITHDRAWN" } else { "" }
            ));
            for l in &g.log {
                line(format!("               log: {l}"));
            }
        }
        match &self.lvb {
            Some(l) => {
                let jids: Vec<String> = l.jids.iter().map(u32::to_string).collect();
                line(format!(
                    "  control_lock generation {}{}, jids needing recovery: {} (LVB {}{}{})",
                    l.generation,
                    if l.disabled {
                        " (mounts disabled)"
                    } else {
                        ", mounts allowed"
                    },
                    if jids.is_empty() {
                        "none".into()
                    } else {
                        jids.join(" ")
                    },
                    l.hex,
                    if l.source == "probe" {
                        ", read by an NL probe"
                    } else {
                        ", master's copy"
                    },
                    if l.invalid {
                        ", INVALID: its last writer failed"
                    } else {
                        ""
                    }
                ));
                line(format!(
                    "               {}",
                    resource_lines(&self.control_lock)
                ));
            }
            None => line(format!(
                "  control_lock LVB not visible here; {}",
                resource_lines(&self.control_lock)
            )),
        }
        line(format!(
            "  mounted_lock {}{}",
            match self.mounted {
                Some(true) => "held: a node is mounted; ",
                Some(false) => "free: no node is mounted; ",
                None => "",
            },
            resource_lines(&self.mounted_lock)
        ));
        for j in &self.journals {
            line(format!(
                "  journal {:<4} {}{}{}",
                j.jid,
                match j.needs_recovery {
                    Some(true) => "NEEDS RECOVERY; ",
                    Some(false) => "",
                    None => "",
                },
                if j.ours { "ours; " } else { "" },
                resource_lines(&j.lock)
            ));
        }
        for w in &self.waiters {
            line(format!(
                "  waiter       lock {:x} waits for node {}'s reply to its {} on \"{}\"",
                w.id,
                w.nodeid,
                debugfs::msg_name(w.wait_type),
                w.resource
            ));
        }
        if self.waiting_for.is_empty() && self.member {
            line("  recovery     nothing pending".into());
        }
        for w in &self.waiting_for {
            line(format!("  waiting for  {w}"));
        }
        for n in &self.notes {
            line(format!("  note         {n}"));
        }
        o
    }
}

#[cfg(test)]
mod tests;
