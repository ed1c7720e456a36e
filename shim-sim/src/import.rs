//! `gdlm-sim import`: a real cluster's serial logs (the `nodeN.log` files `ci/realdlm`
//! keeps per scenario) turned into a [`Schedule`], replayed, and compared.
//!
//! The logs give, per node, the kernel's lines: the DLM's `dlm: LS: generation G slots
//! K n:s …` (one per membership change; the slot list is the new membership), and
//! lock_dlm's `first mounter control generation G`, `recover generation G jid J`,
//! `recover jid J result busy|success` and `recover generation G done`; the harness adds
//! `gfs2 umounted` (a clean leave), `READY TO DIE` (the node is killed) and `HOLD granted;
//! holding N s` (a journal lock held from outside, which is what makes the survivors'
//! first tries busy; `HOLD released after M ms` gives the time it was really held, longer
//! where the harness kept it while it looked). Node clocks are not aligned, so the order of events comes from the
//! DLM generations, which are cluster-wide: each generation's member list against the
//! previous one says who joined and who left.
//!
//! The schedule mounts each joiner and waits for it to be mounted, crashes a node that
//! left without unmounting and unmounts one that unmounted. Where the harness held the
//! failed node's journal lock from outside (`HOLD granted; holding N s`), the schedule
//! does the same with a `hold` step from the same node, requested before the crash as
//! the harness requests it, and replays take the logged replay time. The comparison is
//! per node: the sequence of DLM generations, of `recover generation G done` lines, the
//! first mounter's generation and the results of each `(generation, jid)`, runs of the
//! same result collapsed (`busy→success`); with the hold modelled the whole sequence must
//! match (whether the first try was busy included), without it only the last result.
//! The number of busy tries is reported beside it.
//!
//! One real-kernel window is accepted explicitly: a first mounter that logs no `recover
//! generation G done` for a join logged (`add member N`) within [`LATE_STOP_MS`] after its
//! `first mount done, others may mount`. The DLM calls `recover_prep` when it stops the
//! lockspace, before its `add member` line (`dlm_ls_stop`, then `dlm_recover_members` in
//! the start; 68–97 ms apart on the VMs, the joiner's `joining the lockspace group` to the
//! first mounter's `add member`), and gfs2 prints `first mount done` before calling
//! `lm_first_done` (`gfs2_others_may_mount`). A stop in that gap finds `DFL_FIRST_MOUNT`
//! still set: `gdlm_recover_prep` returns before setting `DFL_BLOCK_LOCKS` (Linux 7.2
//! lock_dlm.c L1172-1176; v3.12 L1078-1080), `control_first_done` waits for the recovery
//! (L1054-1067; v3.12 L973-977) and `gfs2_control_func` run by that `recover_done` (queued
//! at L1235 and the waiter woken at L1237-1239, both under `ls_recover_spin`; v3.12
//! L1132-1136) returns at its `DFL_FIRST_MOUNT` test (L675-679; v3.12 L595-597) when it
//! takes the spinlock before the woken `control_first_done` clears the flag (L1070; v3.12
//! L981).
//! No done line is printed for G then. The importer replays that order: the joiner mounts
//! while the first mounter replays its last journal, `dlm_hold` keeps the DLM's recovery
//! before its recover_done until the first mounter's `control_first_done` waits, and the
//! recover_done is delivered with `first_done_order` `work_first`; it says so.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::schedule::{Cond, Hold, JournalState, LockSel, Schedule, Step, Until, Wait};
use crate::sim::Outcome;

/// How long after a first mounter's `first mount done` a join's `add member` may be
/// logged and its stop (`recover_prep`) still have come while `DFL_FIRST_MOUNT` was set:
/// twice the longest stop-to-`add member` span measured on the VMs (97 ms).
pub const LATE_STOP_MS: u64 = 200;

/// One thing a node's log says, in the node's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// The DLM finished a membership change: `dlm: LS: generation G slots …`
    /// (`recover_done` in the simulator).
    Gen(u32),
    /// `first mounter control generation G`.
    First(u32),
    /// `recover generation G jid J` then its results, collapsed: `recover jid J result …`.
    Results {
        /// The generation.
        generation: u32,
        /// The jid.
        jid: u32,
        /// Results in order, runs of the same one collapsed (`busy`, `success`).
        results: Vec<&'static str>,
    },
    /// `recover generation G done`.
    Done(u32),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Gen(g) => write!(f, "gen {g}"),
            Token::First(g) => write!(f, "first mounter (lvb gen {g})"),
            Token::Results {
                generation,
                jid,
                results,
            } => write!(f, "g{generation} jid {jid}: {}", results.join("→")),
            Token::Done(g) => write!(f, "done {g}"),
        }
    }
}

/// Tokens of one node from its lines (kernel message text, without timestamps).
#[derive(Clone, Debug, Default)]
pub struct Story {
    /// In order.
    pub tokens: Vec<Token>,
    /// `recover jid J result busy` lines (before collapsing).
    pub busy: u32,
    last_jid_gen: BTreeMap<u32, u32>,
}

impl Story {
    /// Feed one message. `dlm_gen`: the DLM generation when the line is a membership
    /// change.
    pub fn feed(&mut self, dlm_gen: Option<u32>, msg: &str) {
        if let Some(g) = dlm_gen {
            return self.tokens.push(Token::Gen(g));
        }
        if let Some(r) = msg.strip_prefix("first mounter control generation ") {
            if let Ok(g) = r.trim().parse() {
                self.tokens.push(Token::First(g));
            }
        } else if let Some(r) = msg.strip_prefix("recover generation ") {
            let w: Vec<&str> = r.split_whitespace().collect();
            match w[..] {
                [g, "done"] => {
                    if let Ok(g) = g.parse() {
                        self.tokens.push(Token::Done(g));
                    }
                }
                [g, "jid", j] => {
                    if let (Ok(g), Ok(j)) = (g.parse(), j.parse()) {
                        self.last_jid_gen.insert(j, g);
                    }
                }
                _ => {}
            }
        } else if let Some(r) = msg.strip_prefix("recover jid ") {
            let w: Vec<&str> = r.split_whitespace().collect();
            if let [j, "result", res] = w[..] {
                let Ok(jid) = j.parse::<u32>() else { return };
                let res = if res == "busy" { "busy" } else { "success" };
                if res == "busy" {
                    self.busy += 1;
                }
                let generation = self.last_jid_gen.get(&jid).copied().unwrap_or(0);
                if let Some(Token::Results {
                    generation: g,
                    jid: j,
                    results,
                }) = self.tokens.last_mut()
                {
                    if *g == generation && *j == jid {
                        if results.last() != Some(&res) {
                            results.push(res);
                        }
                        return;
                    }
                }
                self.tokens.push(Token::Results {
                    generation,
                    jid,
                    results: vec![res],
                });
            }
        }
    }

    /// What the comparison requires: every token, with only the last result of each
    /// `(generation, jid)` unless `exact`.
    fn required(&self, exact: bool) -> Vec<Token> {
        self.tokens
            .iter()
            .map(|t| match t {
                t if exact => t.clone(),
                Token::Results {
                    generation,
                    jid,
                    results,
                } => Token::Results {
                    generation: *generation,
                    jid: *jid,
                    results: results.last().copied().into_iter().collect(),
                },
                t => t.clone(),
            })
            .collect()
    }

    /// The tokens on one line.
    pub fn story_line(&self) -> String {
        let v: Vec<String> = self.tokens.iter().map(|t| t.to_string()).collect();
        v.join(", ")
    }
}

/// A membership change: who joined or left at a generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Node joined (mounted).
    Join(u32),
    /// Node left cleanly (unmounted).
    Leave(u32),
    /// Node failed (killed).
    Fail(u32),
}

/// One real node's log, parsed.
#[derive(Clone, Debug, Default)]
pub struct NodeLog {
    /// Node id (from `nodeN.log`).
    pub id: u32,
    /// `kernel=` from the harness's init line.
    pub kernel: Option<String>,
    /// What its log says.
    pub story: Story,
    /// Member lists per DLM generation, as this node saw them.
    pub generations: BTreeMap<u32, Vec<u32>>,
    /// `gfs2 umounted` lines.
    pub unmounts: u32,
    /// The harness killed it.
    pub killed: bool,
    /// A journal lock held from outside: ms (`HOLD released after M ms`, or the
    /// `holding N s` it asked for where the log has no release time).
    pub hold_ms: Option<u64>,
    /// Logged replay times (`Journal replayed in N ms`).
    pub replay_ms: Vec<u64>,
    /// First mounter: journal head lookups of other nodes' journals during its first
    /// mount (ms).
    pub first_lookup_ms: Vec<u64>,
    /// First mounter: how many tokens its story had at `first mount done, others may
    /// mount` (a generation before it came while the node was still first-mounting).
    pub first_done_at: Option<usize>,
    /// First mounter: nodes the DLM added (`dlm: LS: add member N`) before its first
    /// mount was done.
    pub joined_during_first: Vec<u32>,
    /// lock_dlm lines were seen (a GFS2 kernel mount, not gdlmd or gdlm.ko).
    pub gfs2: bool,
    /// gdlm.ko mounted here (`gdlm: LS: Trying to join cluster`): not GFS2's lock_dlm.
    pub gdlm_ko: bool,
    /// Its jid (from `gfs2: fsid=C:F.J:`).
    pub jid: Option<u32>,
    /// First mounter: kernel time (ms) of `first mount done, others may mount`.
    pub first_done_ms: Option<u64>,
    /// First mounter: `(node, ms after first mount done)` of the first `add member`
    /// logged after its first mount.
    pub first_join_after: Option<(u32, u64)>,
}

/// The kernel message of a console line `[  12.345678] msg` (`None` for other lines).
fn kernel_msg(line: &str) -> Option<&str> {
    kernel_line(line).map(|(_, m)| m)
}

/// A console line's kernel time (ms) and message.
fn kernel_line(line: &str) -> Option<(u64, &str)> {
    let r = line.strip_prefix('[')?;
    let (stamp, msg) = r.split_once(']')?;
    let secs = stamp.trim().parse::<f64>().ok()?;
    Some(((secs * 1000.0).round() as u64, msg.trim_start()))
}

/// `dlm: LS: generation G slots K a:b …` → (G, members).
fn dlm_generation(msg: &str) -> Option<(u32, Vec<u32>)> {
    let r = msg.strip_prefix("dlm: ")?;
    let (_ls, r) = r.split_once(": ")?;
    let r = r.strip_prefix("generation ")?;
    let mut w = r.split_whitespace();
    let g = w.next()?.parse().ok()?;
    if w.next()? != "slots" {
        return None;
    }
    let _count = w.next()?;
    let members = w
        .filter_map(|s| s.split_once(':').and_then(|(n, _)| n.parse().ok()))
        .collect();
    Some((g, members))
}

/// The lockspace of a `dlm: LS: …` line.
fn dlm_lockspace(msg: &str) -> Option<&str> {
    Some(msg.strip_prefix("dlm: ")?.split_once(": ")?.0)
}

/// `gfs2: fsid=CLUSTER:FS[.JID]: …` → (FS, JID).
fn gfs2_fsid(msg: &str) -> Option<(&str, Option<u32>)> {
    let r = msg.strip_prefix("gfs2: fsid=")?;
    let fsid = r.split_once(": ")?.0;
    let fs = fsid.split_once(':')?.1;
    Some(match fs.split_once('.') {
        Some((f, j)) => (f, j.parse().ok()),
        None => (fs, None),
    })
}

/// The lock_dlm message of a `gfs2: fsid=C:F[.J]: msg` line.
fn gfs2_msg(msg: &str) -> Option<&str> {
    let r = msg.strip_prefix("gfs2: fsid=")?;
    Some(r.split_once(": ")?.1)
}

impl NodeLog {
    /// Its story on one line.
    pub fn story_line(&self) -> String {
        self.story.story_line()
    }

    /// Parse one node's serial log.
    pub fn parse(id: u32, text: &str) -> NodeLog {
        let mut n = NodeLog {
            id,
            ..NodeLog::default()
        };
        // The GFS2 file system's lockspace (its name is the lock table's fs name).
        let ls: Option<String> = text
            .lines()
            .filter_map(kernel_msg)
            .find_map(|m| gfs2_fsid(m).map(|(fs, _)| fs.to_string()));
        for line in text.lines() {
            if let Some((ms, msg)) = kernel_line(line) {
                if msg.starts_with("gdlm: ") && msg.contains(": Trying to join cluster") {
                    n.gdlm_ko = true;
                }
                if ls.is_some() && dlm_lockspace(msg) != ls.as_deref() && msg.starts_with("dlm: ") {
                    continue;
                }
                let first = n.story.tokens.iter().any(|t| matches!(t, Token::First(_)));
                if let Some(x) = msg
                    .split_once(": add member ")
                    .and_then(|(_, x)| x.parse().ok())
                {
                    if first && n.first_done_at.is_none() && x != id {
                        n.joined_during_first.push(x);
                    }
                    if let (Some(t), None) = (n.first_done_ms, n.first_join_after) {
                        if x != id {
                            n.first_join_after = Some((x, ms.saturating_sub(t)));
                        }
                    }
                }
                if let Some((g, members)) = dlm_generation(msg) {
                    n.generations.insert(g, members);
                    n.story.feed(Some(g), "");
                } else if let Some(m) = gfs2_msg(msg) {
                    n.story.feed(None, m);
                    if m.starts_with("first mounter control generation") {
                        n.gfs2 = true;
                    }
                    if m.starts_with("Joined cluster.") {
                        n.gfs2 = true;
                    }
                    if m.starts_with("first mount done") {
                        n.first_done_at = Some(n.story.tokens.len());
                        n.first_done_ms = Some(ms);
                    }
                    let own = gfs2_fsid(msg).and_then(|(_, j)| j);
                    if own.is_some() {
                        n.jid = own;
                    }
                    if let Some((j, r)) = m
                        .strip_prefix("jid=")
                        .and_then(|r| r.split_once(": Journal head lookup took "))
                    {
                        let ms = r.trim_end_matches("ms").parse::<u64>();
                        if let (Ok(j), Ok(ms), None) = (j.parse::<u32>(), ms, n.first_done_at) {
                            let first = n.story.tokens.iter().any(|t| matches!(t, Token::First(_)));
                            if first && Some(j) != own {
                                n.first_lookup_ms.push(ms);
                            }
                        }
                    }
                    if let Some(r) = m.split_once("Journal replayed in ") {
                        if let Some(ms) = r.1.split("ms").next().and_then(|s| s.parse().ok()) {
                            n.replay_ms.push(ms);
                        }
                    }
                }
                continue;
            }
            // Harness lines (GDLM…); the GDLM-DMESG copy of the kernel log is skipped.
            if line.starts_with("GDLM-") {
                continue;
            }
            if let Some(k) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("kernel="))
            {
                n.kernel.get_or_insert_with(|| k.to_string());
            }
            if line.ends_with("gfs2 umounted") {
                n.unmounts += 1;
            }
            if line.contains("READY TO DIE") {
                n.killed = true;
            }
            if let Some(r) = line.split_once("HOLD granted; holding ") {
                let s: Option<u64> = r.1.split_whitespace().next().and_then(|s| s.parse().ok());
                n.hold_ms = n.hold_ms.or(s.map(|s| s * 1000));
            }
            if let Some(r) = line.split_once("HOLD released after ") {
                if let Some(ms) = r.1.split_whitespace().next().and_then(|s| s.parse().ok()) {
                    n.hold_ms = Some(ms);
                }
            }
        }
        n
    }
}

/// A real run: its node logs and the schedule made from them.
#[derive(Clone, Debug)]
pub struct RealRun {
    /// Where the logs are.
    pub dir: PathBuf,
    /// The nodes, by id.
    pub nodes: Vec<NodeLog>,
    /// (generation, changes), in generation order.
    pub changes: Vec<(u32, Vec<Change>)>,
    /// How long a replay of a failed node's journal takes (ms): the longest logged
    /// (`Journal replayed in N ms`), plus the outside hold when it cannot be modelled.
    pub replay_delay_ms: u64,
    /// The outside hold of the failed node's journal lock: `(node, ms)` from `HOLD
    /// granted; holding N s` (node N's harness held it).
    pub hold: Option<(u32, u64)>,
    /// The profile the schedule runs (from node 1's kernel).
    pub profile: Option<String>,
    /// How long the first mounter's replays of other journals took (ms; the longest
    /// journal head lookup it logged).
    pub first_replay_ms: u64,
    /// Generations whose joiner came while this node was still first-mounting.
    pub overlaps: BTreeMap<u32, u32>,
    /// Joins accepted as overlaps through the late-stop window: `(generation, joiner,
    /// first mounter, ms from its first mount done to the joiner's add member)`.
    pub late_stops: Vec<(u32, u32, u32, u64)>,
}

/// Node ids of the `nodeN.log` files in `dir`.
pub(crate) fn node_files(dir: &Path) -> Vec<(u32, PathBuf)> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name
                .strip_prefix("node")?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            Some((id, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// The profile a node running kernel `k` (`uname -r`) replays with: 7.x is Linux 7.2's
/// lock_dlm, anything older the v3.12 reference (6.1 behaves as it does here).
fn kernel_profile(k: &str) -> String {
    if k.starts_with("7.") {
        "linux-7.2"
    } else {
        "reference"
    }
    .to_string()
}

/// The scenario directories under `dir`: itself if it has `nodeN.log` files, else its
/// subdirectories that have them.
pub fn scenario_dirs(dir: &Path) -> Vec<PathBuf> {
    if !node_files(dir).is_empty() {
        return vec![dir.to_path_buf()];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !node_files(p).is_empty())
        .collect();
    v.sort();
    v
}

impl RealRun {
    /// Read a scenario directory.
    pub fn read(dir: &Path) -> Result<RealRun, String> {
        let mut nodes = Vec::new();
        for (id, p) in node_files(dir) {
            let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            nodes.push(NodeLog::parse(id, &String::from_utf8_lossy(&bytes)));
        }
        if nodes.is_empty() {
            return Err(format!("{}: no nodeN.log files", dir.display()));
        }
        Self::from_nodes(dir, nodes)
    }

    /// Build the membership changes from parsed node logs.
    pub fn from_nodes(dir: &Path, nodes: Vec<NodeLog>) -> Result<RealRun, String> {
        let mut gens: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for n in &nodes {
            for (g, m) in &n.generations {
                gens.entry(*g).or_insert_with(|| m.clone());
            }
        }
        if let Some(n) = nodes.iter().find(|n| n.gdlm_ko) {
            return Err(format!(
                "{}: node {} mounts with gdlm.ko (`gdlm: …: Trying to join cluster`), not \
                 GFS2's lock_dlm; import replays kernel GFS2 nodes only",
                dir.display(),
                n.id
            ));
        }
        if !nodes.iter().any(|n| n.gfs2) {
            return Err(format!(
                "{}: no GFS2 lock_dlm lines (not a kernel GFS2 mount)",
                dir.display()
            ));
        }
        if gens.is_empty() {
            return Err(format!(
                "{}: no `dlm: …: generation G slots` lines",
                dir.display()
            ));
        }
        let mut prev: Vec<u32> = Vec::new();
        let mut changes = Vec::new();
        let mut leaves: BTreeMap<u32, u32> = BTreeMap::new();
        for (g, members) in &gens {
            let mut c = Vec::new();
            for m in members.iter().filter(|m| !prev.contains(m)) {
                c.push(Change::Join(*m));
            }
            for m in prev.iter().filter(|m| !members.contains(m)) {
                // The k-th departure of a node is clean if it logged k unmounts.
                let k = leaves.entry(*m).or_insert(0);
                *k += 1;
                let node = nodes.iter().find(|n| n.id == *m);
                let clean = node.is_some_and(|n| n.unmounts >= *k && !n.killed);
                c.push(if clean {
                    Change::Leave(*m)
                } else {
                    Change::Fail(*m)
                });
            }
            changes.push((*g, c));
            prev = members.clone();
        }
        let hold = nodes
            .iter()
            .filter_map(|n| n.hold_ms.map(|ms| (n.id, ms)))
            .max_by_key(|&(_, ms)| ms);
        let replay = nodes
            .iter()
            .flat_map(|n| n.replay_ms.iter().copied())
            .max()
            .unwrap_or(0);
        // The hold is modelled when every failed node's jid is known (it is the lock).
        let failed_jids_known = changes.iter().flat_map(|(_, c)| c).all(|c| match c {
            Change::Fail(f) => nodes.iter().any(|n| n.id == *f && n.jid.is_some()),
            _ => true,
        });
        let hold = hold.filter(|_| failed_jids_known);
        let profile = nodes
            .iter()
            .find_map(|n| n.kernel.as_deref())
            .map(kernel_profile);
        let first_replay_ms = nodes
            .iter()
            .flat_map(|n| n.first_lookup_ms.iter().copied())
            .max()
            .unwrap_or(0);
        let mut overlaps = BTreeMap::new();
        for n in &nodes {
            for x in &n.joined_during_first {
                let g = changes
                    .iter()
                    .find(|(_, c)| c.contains(&Change::Join(*x)))
                    .map(|(g, _)| *g);
                if let Some(g) = g {
                    overlaps.insert(g, n.id);
                }
            }
        }
        // The late-stop window (module docs): a first mounter without a done line for
        // the first join after its first mount, logged within LATE_STOP_MS of it.
        let mut late_stops = Vec::new();
        for n in &nodes {
            let Some((x, after)) = n.first_join_after else {
                continue;
            };
            let g = changes
                .iter()
                .find(|(_, c)| c.contains(&Change::Join(x)))
                .map(|(g, _)| *g);
            if let Some(g) = g {
                let no_done = !n.story.tokens.contains(&Token::Done(g));
                if no_done && after <= LATE_STOP_MS && !overlaps.contains_key(&g) {
                    overlaps.insert(g, n.id);
                    late_stops.push((g, x, n.id, after));
                }
            }
        }
        let replay_delay_ms = match hold {
            Some(_) if replay > 0 => replay,
            Some(_) => crate::sim::REPLAY_MS,
            None => nodes.iter().filter_map(|n| n.hold_ms).max().unwrap_or(0) + replay,
        };
        Ok(RealRun {
            dir: dir.to_path_buf(),
            nodes,
            changes,
            replay_delay_ms,
            hold,
            profile,
            first_replay_ms,
            overlaps,
            late_stops,
        })
    }

    /// The schedule that replays it.
    pub fn schedule(&self, seed: u64) -> Schedule {
        let until = |node, phase| {
            Step::Until(Until {
                node,
                phase,
                limit: 50_000,
            })
        };
        use crate::node::Phase;
        let mut steps = Vec::new();
        if self.first_replay_ms > 0 {
            // The first mounter's replays take as long as they did, so joins that came
            // during its first mount can come then here too.
            steps.push(Step::ReplayDelay(self.first_replay_ms));
        }
        for (k, (_, changes)) in self.changes.iter().enumerate() {
            let next_overlaps = self
                .changes
                .get(k + 1)
                .and_then(|(g, _)| self.overlaps.get(g).copied());
            let late = |g: u32| self.late_stops.iter().any(|l| l.0 == g);
            let next_late = self.changes.get(k + 1).is_some_and(|(g, _)| late(*g));
            let this_late = late(self.changes[k].0);
            for c in changes {
                match *c {
                    Change::Join(n) if next_overlaps == Some(n) && next_late => {
                        // The next join's stop comes while this first mounter replays its
                        // last journal, and the DLM's recover_done only after its
                        // control_first_done started: hold the DLM's recovery there.
                        let last = self.nodes.iter().map(|x| x.id).max().unwrap_or(1) - 1;
                        steps.push(Step::Mount(n));
                        steps.push(until(n, Phase::FirstRecovery));
                        steps.push(Step::Wait(Wait {
                            cond: Cond::Journal {
                                jid: last,
                                state: JournalState::Replaying,
                            },
                            limit: 50_000,
                        }));
                        steps.push(Step::DlmHold(true));
                    }
                    Change::Join(n) if next_overlaps == Some(n) => {
                        // The next node joined while this one was still first-mounting.
                        steps.push(Step::Mount(n));
                        steps.push(until(n, Phase::FirstRecovery));
                    }
                    Change::Join(n) if this_late => {
                        // The kernel's other order (module docs): the control work queued
                        // by this recover_done runs before the woken control_first_done.
                        let f = self.overlaps[&self.changes[k].0];
                        steps.push(Step::Mount(n));
                        steps.push(Step::Wait(Wait {
                            cond: Cond::FirstDoneWaiting { node: f },
                            limit: 50_000,
                        }));
                        steps.push(Step::DlmHold(false));
                        steps.push(Step::FirstDoneOrder(crate::sim::OrderSel::WorkFirst));
                        steps.push(until(n, Phase::Mounted));
                        steps.push(until(f, Phase::Mounted));
                        steps.push(Step::FirstDoneOrder(crate::sim::OrderSel::Either));
                    }
                    Change::Join(n) => {
                        steps.push(Step::Mount(n));
                        steps.push(until(n, Phase::Mounted));
                        if let Some(&f) = self.overlaps.get(&self.changes[k].0) {
                            steps.push(until(f, Phase::Mounted));
                        }
                    }
                    Change::Fail(n) => {
                        steps.push(Step::ReplayDelay(self.replay_delay_ms));
                        let jid = self.nodes.iter().find(|x| x.id == n).and_then(|x| x.jid);
                        if let (Some((host, ms)), Some(j)) = (self.hold, jid) {
                            // Requested before the kill, as the harness does: queued
                            // behind the node's own EX, granted when the DLM purges it.
                            steps.push(Step::Hold(Hold {
                                node: host,
                                lock: LockSel::Journal(j),
                                mode: "EX".into(),
                                ms,
                            }));
                        }
                        steps.push(Step::Crash(n));
                        steps.push(Step::Settle);
                    }
                    Change::Leave(n) => {
                        steps.push(Step::Unmount(n));
                        steps.push(Step::Settle);
                    }
                }
            }
        }
        Schedule {
            nodes: self.nodes.iter().map(|n| n.id).max().unwrap_or(1),
            seed,
            defects: Vec::new(),
            traffic: false,
            ignore: Vec::new(),
            fixes: Vec::new(),
            cpg: false,
            profile: self.profile.clone(),
            // A mixed-kernel cluster: each node runs its own kernel's lock_dlm (and head
            // lookup times).
            node_profiles: self
                .nodes
                .iter()
                .filter_map(|n| Some((n.id, kernel_profile(n.kernel.as_deref()?))))
                .filter(|(_, p)| Some(p) != self.profile.as_ref())
                .collect(),
            max_steps: 200_000,
            steps,
        }
    }

    /// Kernels the nodes ran, when they differ (the schedule gives each node its own).
    pub fn mixed_kernels(&self) -> Option<String> {
        let ks: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("node {}: {}", n.id, n.kernel.as_deref().unwrap_or("?")))
            .collect();
        let first = self.nodes.first().and_then(|n| n.kernel.clone());
        self.nodes
            .iter()
            .any(|n| n.kernel != first)
            .then(|| ks.join(", "))
    }
}

/// Each node's story in a simulated run (from its trace).
pub fn sim_stories(out: &Outcome, nodes: u32) -> Vec<Story> {
    let mut s = vec![Story::default(); nodes as usize];
    for e in &out.trace {
        let Some(st) = s.get_mut((e.node as usize).wrapping_sub(1)) else {
            continue;
        };
        if let Some(r) = e.what.strip_prefix("recover_done gen ") {
            if let Some(g) = r.split_whitespace().next().and_then(|g| g.parse().ok()) {
                st.feed(Some(g), "");
            }
        } else {
            // The engine's lines are the kernel's text; one may hold several lines.
            for l in e.what.lines() {
                st.feed(None, l);
            }
        }
    }
    s
}

/// How one seed's run compares with the real one.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The seed.
    pub seed: u64,
    /// The simulated stories, per node.
    pub sim: Vec<Story>,
    /// Per node: the differences (empty: the same).
    pub diffs: Vec<Vec<String>>,
    /// The run's violation or the schedule's error.
    pub error: Option<String>,
}

impl Comparison {
    /// Generations and results are the same on every node.
    pub fn matches(&self) -> bool {
        self.error.is_none() && self.diffs.iter().all(|d| d.is_empty())
    }
}

/// Compare a real and a simulated story: every token, the last result of each
/// `(generation, jid)` only.
pub fn diff(real: &Story, sim: &Story) -> Vec<String> {
    diff_with(real, sim, false)
}

/// [`diff`], or with `exact` every collapsed result sequence (`busy→success`).
pub fn diff_with(real: &Story, sim: &Story, exact: bool) -> Vec<String> {
    let (r, s) = (real.required(exact), sim.required(exact));
    let mut d = Vec::new();
    for i in 0..r.len().max(s.len()) {
        match (r.get(i), s.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                let show = |t: Option<&Token>| t.map_or("nothing".to_string(), |t| t.to_string());
                d.push(format!("#{i}: real {}, sim {}", show(a), show(b)));
                break;
            }
        }
    }
    d
}

/// Replay with `seed` and compare.
pub fn compare(run: &RealRun, seed: u64) -> Comparison {
    let sched = run.schedule(seed);
    let n = sched.nodes;
    match sched.run() {
        Err(e) => Comparison {
            seed,
            sim: Vec::new(),
            diffs: Vec::new(),
            error: Some(e),
        },
        Ok(out) => {
            let sim = sim_stories(&out, n);
            let diffs = (1..=n)
                .map(|id| {
                    let real = run
                        .nodes
                        .iter()
                        .find(|x| x.id == id)
                        .map(|x| x.story.clone())
                        .unwrap_or_default();
                    diff_with(&real, &sim[(id - 1) as usize], run.hold.is_some())
                })
                .collect();
            Comparison {
                seed,
                sim,
                diffs,
                error: out.violation.map(|v| v.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE1: &str = "\
GDLM[13.40] init node=1 nnodes=3 scenario=cluster3-kill kernel=6.1.0-57-amd64 payload=x
[   49.850151] dlm: gfs1: generation 1 slots 1 1:1
[   50.398086] gfs2: fsid=gdlm:gfs1: first mounter control generation 0
[   53.237946] dlm: gfs1: generation 2 slots 2 1:1 2:2
[   69.615142] dlm: gfs1: generation 4 slots 1 1:1
[   69.953993] gfs2: fsid=gdlm:gfs1.0: recover generation 4 jid 1
[   69.953993] gfs2: fsid=gdlm:gfs1.0: recover jid 1 result busy
[   70.953993] gfs2: fsid=gdlm:gfs1.0: recover generation 4 jid 1
[   70.974636] gfs2: fsid=gdlm:gfs1.0: recover jid 1 result busy
[   78.282048] gfs2: fsid=gdlm:gfs1.0: recover jid 1 result success
[   78.291416] gfs2: fsid=gdlm:gfs1.0: recover generation 4 done
GDLM-DMESG [   78.291416] gfs2: fsid=gdlm:gfs1.0: recover generation 4 done
";

    #[test]
    fn a_log_becomes_tokens_with_runs_collapsed() {
        let n = NodeLog::parse(1, NODE1);
        assert_eq!(n.kernel.as_deref(), Some("6.1.0-57-amd64"));
        assert_eq!(
            n.story.tokens,
            vec![
                Token::Gen(1),
                Token::First(0),
                Token::Gen(2),
                Token::Gen(4),
                Token::Results {
                    generation: 4,
                    jid: 1,
                    results: vec!["busy", "success"]
                },
                Token::Done(4),
            ]
        );
        assert_eq!(n.generations[&2], vec![1, 2]);
    }

    #[test]
    fn membership_diffs_name_joins_and_failures() {
        let n1 = NodeLog::parse(1, NODE1);
        let n2 = NodeLog::parse(2, "[ 1.0] dlm: gfs1: generation 2 slots 2 1:1 2:2\n");
        let run = RealRun::from_nodes(Path::new("x"), vec![n1, n2]).unwrap();
        assert_eq!(
            run.changes,
            vec![
                (1, vec![Change::Join(1)]),
                (2, vec![Change::Join(2)]),
                (4, vec![Change::Fail(2)]),
            ]
        );
        assert_eq!(run.profile.as_deref(), Some("reference"));
    }

    #[test]
    fn diff_needs_only_the_last_result() {
        let mut a = Story::default();
        let mut b = Story::default();
        for m in ["recover generation 4 jid 2", "recover jid 2 result busy"] {
            a.feed(None, m);
        }
        a.feed(None, "recover jid 2 result success");
        for m in ["recover generation 4 jid 2", "recover jid 2 result success"] {
            b.feed(None, m);
        }
        assert!(diff(&a, &b).is_empty());
        b.feed(None, "recover generation 4 done");
        assert_eq!(diff(&a, &b).len(), 1);
    }

    #[test]
    fn the_hold_is_the_time_really_held_where_the_log_has_it() {
        let asked = "GDLM hold: HOLD granted; holding 8 s\n";
        assert_eq!(NodeLog::parse(1, asked).hold_ms, Some(8000));
        // Held on while the harness looked (`--while-file`): the release line wins,
        // whichever order the two lines come in.
        let both = format!("{asked}GDLM hold: HOLD released after 11250 ms\n");
        assert_eq!(NodeLog::parse(1, &both).hold_ms, Some(11250));
        let reversed = format!("GDLM hold: HOLD released after 9001 ms\n{asked}");
        assert_eq!(NodeLog::parse(1, &reversed).hold_ms, Some(9001));
        assert_eq!(NodeLog::parse(1, NODE1).hold_ms, None);
    }
}
