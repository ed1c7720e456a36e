//! How often a kill shows the busy result (a survivor's `recover jid J result busy`: its
//! `EX|TRY` on the dead node's journal lock failed because another holder had it), on
//! real clusters and in the simulator: `gdlm-sim busy`.
//!
//! Real side: every kill in the `ci/realdlm` serial logs of the kill scenarios, one per
//! `(scenario run, lockspace, generation, jid)` that a survivor logged as `recover
//! generation G jid J` (gfs2's `gfs2: fsid=CLUSTER:LS.J:` lines and gdlm.ko's `gdlm: LS:`
//! lines alike), kept when at least two survivors logged it (with one there is nobody to
//! race). It shows busy when any survivor logged a busy result for that jid and
//! generation. A run whose harness held the journal lock from outside (`HOLD granted`)
//! is counted apart: there every try is busy until the hold ends, whatever the race.
//!
//! Simulated side: the three-node kill schedules (`schedules/cluster3-kill.json`, no
//! hold; `schedules/cluster3-kill-hold.json`, the harness's hold) over seeds, under
//! kernel and CPG callbacks; a run shows busy when any node logs a busy result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::schedule::Schedule;

/// One kill as the real logs show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealKill {
    /// The scenario directory.
    pub dir: PathBuf,
    /// The lockspace.
    pub lockspace: String,
    /// The DLM generation of the recovery.
    pub generation: u32,
    /// The dead node's jid.
    pub jid: u32,
    /// Nodes that logged `recover generation G jid J`.
    pub survivors: Vec<u32>,
    /// Some survivor's result was busy.
    pub busy: bool,
    /// The harness held the journal lock from outside in this run.
    pub hold: bool,
}

/// `(lockspace, message)` of a gfs2 (`gfs2: fsid=C:LS.J: msg`, `gfs2: fsid=C:LS: msg`) or
/// gdlm.ko (`gdlm: LS: msg`) kernel line.
fn lock_dlm_line(line: &str) -> Option<(&str, &str)> {
    if let Some((_, r)) = line.split_once("gfs2: fsid=") {
        let (fsid, msg) = r.split_once(": ")?;
        let ls = fsid.split_once(':').map_or(fsid, |(_, l)| l);
        let ls = ls.split_once('.').map_or(ls, |(l, _)| l);
        return Some((ls, msg));
    }
    let (_, r) = line
        .split_once("gdlm: ")
        .or_else(|| line.split_once("gdlmd: "))?;
    r.split_once(": ")
}

/// The kills in one scenario directory (its `nodeN.log` files).
pub fn real_kills(dir: &Path) -> Vec<RealKill> {
    // (lockspace, generation, jid) → (survivors, busy), in first-seen order.
    let mut kills: BTreeMap<(String, u32, u32), (Vec<u32>, bool)> = BTreeMap::new();
    let mut hold = false;
    for (id, p) in crate::import::node_files(dir) {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        // Per (lockspace, jid): the generation of the node's last `recover generation`.
        let mut last: BTreeMap<(String, u32), u32> = BTreeMap::new();
        for line in text.lines() {
            // The harness's copies of dmesg (`GDLM-DMESG …`) repeat the console lines.
            if line.starts_with("GDLM-") {
                continue;
            }
            hold |= line.contains("HOLD granted");
            let Some((ls, msg)) = lock_dlm_line(line) else {
                continue;
            };
            let w: Vec<&str> = msg.split_whitespace().collect();
            match w[..] {
                ["recover", "generation", g, "jid", j] => {
                    let (Ok(g), Ok(j)) = (g.parse::<u32>(), j.parse::<u32>()) else {
                        continue;
                    };
                    last.insert((ls.to_string(), j), g);
                    let e = kills.entry((ls.to_string(), g, j)).or_default();
                    if !e.0.contains(&id) {
                        e.0.push(id);
                    }
                }
                ["recover", "jid", j, "result", r] => {
                    let Ok(j) = j.parse::<u32>() else { continue };
                    if let Some(&g) = last.get(&(ls.to_string(), j)) {
                        let e = kills.entry((ls.to_string(), g, j)).or_default();
                        e.1 |= r == "busy";
                    }
                }
                _ => {}
            }
        }
    }
    kills
        .into_iter()
        .filter(|(_, (s, _))| s.len() >= 2)
        .map(|((lockspace, generation, jid), (mut survivors, busy))| {
            survivors.sort_unstable();
            RealKill {
                dir: dir.to_path_buf(),
                lockspace,
                generation,
                jid,
                survivors,
                busy,
                hold,
            }
        })
        .collect()
}

/// The kills under `roots` (scenario directories, run directories holding them, or a
/// directory of runs such as `target/realdlm`) in scenarios whose name starts with one of
/// `prefixes`.
pub fn real_kills_under(roots: &[PathBuf], prefixes: &[&str]) -> Vec<RealKill> {
    scenario_dirs_under(roots, prefixes)
        .iter()
        .flat_map(|d| real_kills(d))
        .collect()
}

/// The scenario directories under `roots` (scenario directories, run directories holding
/// them, or a directory of runs) whose name starts with one of `prefixes` (all: `[""]`).
pub fn scenario_dirs_under(roots: &[PathBuf], prefixes: &[&str]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for root in roots {
        let mut dirs = crate::import::scenario_dirs(root);
        if dirs.is_empty() {
            let mut runs: Vec<PathBuf> = std::fs::read_dir(root)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            runs.sort();
            dirs = runs
                .iter()
                .flat_map(|r| crate::import::scenario_dirs(r))
                .collect();
        }
        for d in dirs {
            let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if prefixes.iter().any(|p| name.starts_with(p)) {
                v.push(d);
            }
        }
    }
    v
}

/// `(runs that showed busy, runs)` of `schedule` over seeds `1..=seeds` under kernel and
/// CPG callbacks (`2 × seeds` runs). A run that breaks an invariant is an error.
pub fn sim_busy(schedule: &Schedule, seeds: u64) -> Result<(u64, u64), String> {
    let (mut busy, mut runs) = (0, 0);
    for cpg in [false, true] {
        for seed in 1..=seeds {
            let mut s = schedule.clone();
            s.seed = seed;
            s.cpg = cpg;
            let out = s.run()?;
            if let Some(v) = out.violation {
                return Err(format!("seed {seed} cpg {cpg}: {v}"));
            }
            runs += 1;
            if out
                .trace
                .iter()
                .any(|e| e.kind == "recovery_result" && e.what.ends_with("result busy"))
            {
                busy += 1;
            }
        }
    }
    Ok((busy, runs))
}

/// How often mounts took `control_mount`'s wait paths (`gfs2_control_func`'s
/// "control_mount wait…" lines, v3.12 L886-919; gdlm-core logs the same text): each one
/// restarts the mount after 500 ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MountWaits {
    /// Mounts started (`Trying to join cluster`, gdlmd's `started: node`; simulated:
    /// `mount: join lockspace`).
    pub mounts: u64,
    /// First mounters (`first mounter control generation N`).
    pub first: u64,
    /// `control_mount wait for journal recovery` (a jid bit set in the LVB).
    pub journals: u64,
    /// `wait1`: the LVB generation is older than the mount's (`lvb_gen < mount_gen`):
    /// the mounted nodes have not written the join's generation yet.
    pub wait1: u64,
    /// `wait2`: the LVB generation is not the latest recovery's (`lvb_gen != start_gen`).
    pub wait2: u64,
    /// `wait3`: a DLM recovery is in progress (`block_gen == start_gen`).
    pub wait3: u64,
    /// Mounts that took one of wait1/2/3 at least once.
    pub mounts_waited: u64,
    /// `control_mount control_lock busy`: the EX NOQUEUE failed (another node holds
    /// control_lock EX, e.g. a first mounter in its journal pass); gdlm-core logs it,
    /// gfs2 restarts silently (v3.12 L816-818).
    pub busy: u64,
}

impl MountWaits {
    /// Count one lock_dlm message; `true` if it was a wait1/2/3 line.
    fn count(&mut self, msg: &str) -> bool {
        let w = if msg.starts_with("Trying to join cluster") || msg.starts_with("started: node ") {
            &mut self.mounts
        } else if msg.starts_with("first mounter control generation") {
            &mut self.first
        } else if msg.starts_with("control_mount wait for journal recovery") {
            &mut self.journals
        } else if msg.starts_with("control_mount wait1 ") {
            &mut self.wait1
        } else if msg.starts_with("control_mount wait2 ") {
            &mut self.wait2
        } else if msg.starts_with("control_mount wait3 ") {
            &mut self.wait3
        } else if msg.starts_with("control_mount control_lock busy") {
            &mut self.busy
        } else {
            return false;
        };
        *w += 1;
        msg.starts_with("control_mount wait") && !msg.ends_with("journal recovery")
    }

    /// Add another count.
    pub fn add(&mut self, o: &MountWaits) {
        self.mounts += o.mounts;
        self.first += o.first;
        self.journals += o.journals;
        self.wait1 += o.wait1;
        self.wait2 += o.wait2;
        self.wait3 += o.wait3;
        self.mounts_waited += o.mounts_waited;
        self.busy += o.busy;
    }

    /// wait1 + wait2 + wait3.
    pub fn waits(&self) -> u64 {
        self.wait1 + self.wait2 + self.wait3
    }
}

/// The mounts in one scenario directory's serial logs, per shim (`gfs2`, `gdlm` for
/// gdlm.ko and gdlm_rfl.ko, `gdlmd`). A mount counts as waited when a wait1/2/3 line
/// follows its start before the next start on that node and lockspace.
pub fn real_waits(dir: &Path) -> BTreeMap<&'static str, MountWaits> {
    let mut by: BTreeMap<&'static str, MountWaits> = BTreeMap::new();
    for (_, p) in crate::import::node_files(dir) {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        // (shim, lockspace) → this mount already waited.
        let mut waited: BTreeMap<(&'static str, String), bool> = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with("GDLM") {
                continue;
            }
            let Some((ls, msg)) = lock_dlm_line(line) else {
                continue;
            };
            let shim = if line.contains("gfs2: fsid=") {
                "gfs2"
            } else if line.contains("gdlmd: ") {
                "gdlmd"
            } else {
                "gdlm"
            };
            let m = by.entry(shim).or_default();
            let key = (shim, ls.to_string());
            if msg.starts_with("Trying to join cluster") || msg.starts_with("started: node ") {
                waited.insert(key.clone(), false);
            }
            if m.count(msg) && !waited.get(&key).copied().unwrap_or(true) {
                m.mounts_waited += 1;
                waited.insert(key, true);
            }
        }
    }
    by
}

/// The mounts of `schedule` over seeds `1..=seeds` (its own callback source), from the
/// runs' traces. A run that breaks an invariant is an error.
pub fn sim_waits(schedule: &Schedule, seeds: u64) -> Result<MountWaits, String> {
    let mut w = MountWaits::default();
    for seed in 1..=seeds {
        let mut s = schedule.clone();
        s.seed = seed;
        let out = s.run()?;
        if let Some(v) = out.violation {
            return Err(format!("seed {seed}: {v}"));
        }
        // Per node: this mount already waited.
        let mut waited: BTreeMap<u32, bool> = BTreeMap::new();
        for e in &out.trace {
            let msg = match e.kind {
                "text" if e.what.starts_with("mount: join lockspace") => {
                    waited.insert(e.node, false);
                    w.mounts += 1;
                    continue;
                }
                "log" | "first_mounter" => e.what.as_str(),
                _ => continue,
            };
            if w.count(msg) && !waited.get(&e.node).copied().unwrap_or(true) {
                w.mounts_waited += 1;
                waited.insert(e.node, true);
            }
        }
    }
    Ok(w)
}

/// The mounts of the kill scenarios as the `ci/realdlm` harness times them: node N
/// mounts once N − 1 nodes are in the lockspace and 2 s have passed (`sleep 2`), so a
/// mount may overlap the first mounter's journal pass (6.1: 1.3–2.1 s of own-journal
/// head lookup).
pub const CLUSTER3_HARNESS: &str = include_str!("../schedules/cluster3-harness.json");

/// A mount during the survivors' recovery (`schedules/mount-during-recovery.json`).
pub const MOUNT_DURING_RECOVERY: &str = include_str!("../schedules/mount-during-recovery.json");

/// The three-node kill, as `ci/realdlm`'s kill scenarios do it without the harness's
/// hold: nodes 1, 2, 3 mount one after another, node 3 is killed.
pub const CLUSTER3_KILL: &str = include_str!("../schedules/cluster3-kill.json");
/// The same with the harness's 8 s hold of journal 2's lock from node 1.
pub const CLUSTER3_KILL_HOLD: &str = include_str!("../schedules/cluster3-kill-hold.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_their_lockspace() {
        assert_eq!(
            lock_dlm_line("[ 1.0] gfs2: fsid=gdlm:gfs1.0: recover generation 4 jid 2"),
            Some(("gfs1", "recover generation 4 jid 2"))
        );
        assert_eq!(
            lock_dlm_line("[ 1.0] gfs2: fsid=gdlm:gfs1: first mounter control generation 0"),
            Some(("gfs1", "first mounter control generation 0"))
        );
        assert_eq!(
            lock_dlm_line("[ 2.0] gdlm: kls: recover jid 1 result busy"),
            Some(("kls", "recover jid 1 result busy"))
        );
        assert_eq!(lock_dlm_line("[ 2.0] dlm: gfs1: add member 2"), None);
    }
}
