//! DLM request-to-reply times on real clusters, from gfs2's `gfs2_glock_lock_time`
//! tracepoint (`gdlm-sim latency DIR…`): the source of the simulator's default AST
//! latencies ([`crate::schedule::REAL_GRANT_US_LOCAL`], [`crate::schedule::REAL_GRANT_US_REMOTE`]).
//!
//! `ci/realdlm`'s kill scenarios turn the tracepoint on before the mount
//! (`guest/lib.sh` `trace_start`) and print its buffer to the serial log as
//! `GDLM-TRACE <line>` (`trace_dump`), with the DLM's resource table as `GDLM-RSB
//! gfs1_all rsb ADDR NODEID …` lines (`trace_rsb`: `res_nodeid` 0 means this node masters
//! the resource) and `GDLM-TRACE not available` where the kernel had no such event.
//!
//! The tracepoint fires in `gdlm_ast` (`gfs2_update_reply_times`, lock_dlm.c) with
//! `tdiff` = ns from the `dlm_lock`/`dlm_unlock` call (`gl_dstamp`, set in `gdlm_lock`
//! and `gdlm_put_lock`) to the reply, `status` = `sb_status` (0 granted, -11 `-EAGAIN` for
//! a failed TRY/NOQUEUE, -65538 `-DLM_EUNLOCK`, -65537 `-DLM_ECANCEL`), and the glock's
//! smoothed times after the update: `srtt` moves for a request gfs2 counts as
//! non-blocking (a down-conversion, a TRY, to NL or unlock), `srttb` for a potentially
//! blocking one, whose time includes waiting for other holders. lock_dlm's own recovery
//! locks (control_lock, mounted_lock, the journal locks in `sync_lock`) are NOQUEUE or
//! down-conversions, so the non-blocking glock requests over the same DLM are their proxy.

use std::collections::BTreeMap;
use std::path::Path;

/// What a reply completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    /// Granted (a new lock or a conversion).
    Granted,
    /// `-EAGAIN`: a TRY or NOQUEUE request that could not be granted at once.
    TryFailed,
    /// `-DLM_EUNLOCK`.
    Unlocked,
    /// Another status (`-DLM_ECANCEL`, an error).
    Other,
}

/// Which node masters the lock's resource, as the node's DLM showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Master {
    /// This node.
    Local,
    /// Another node.
    Remote,
    /// Not in the resource table when it was printed.
    Unknown,
}

/// How gfs2 classed the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// `srtt` moved: a request that cannot wait for other holders.
    NonBlocking,
    /// `srttb` moved: it may have waited for other holders.
    Blocking,
    /// Neither estimate moved.
    Unknown,
}

/// One reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Node id.
    pub node: u32,
    /// Glock type and number.
    pub glock: (u32, u64),
    /// What the reply completed.
    pub reply: Reply,
    /// Request to reply, ns.
    pub tdiff_ns: u64,
    /// Who mastered the resource.
    pub master: Master,
    /// gfs2's class of the request.
    pub class: Class,
}

/// The samples of one scenario directory, and whether its kernels had the tracepoint.
#[derive(Clone, Debug, Default)]
pub struct ScenarioTimes {
    /// Kernel release (`uname -r` in the harness's `init` line) per node.
    pub kernels: BTreeMap<u32, String>,
    /// Nodes that printed their buffer.
    pub traced: Vec<u32>,
    /// Nodes that said `GDLM-TRACE not available`.
    pub not_available: Vec<u32>,
    /// Every reply.
    pub samples: Vec<Sample>,
}

/// A smoothed time and its variance (`srtt:a/b`).
type Pair = (i64, i64);
/// One event as read: glock, tdiff (ns), status, `srtt`, `srttb`.
type Raw = ((u32, u64), u64, i64, Pair, Pair);

/// The `key:value` fields of a `gfs2_glock_lock_time` line.
fn fields(line: &str) -> Option<BTreeMap<&str, &str>> {
    let (_, rest) = line.split_once("gfs2_glock_lock_time: ")?;
    let mut m = BTreeMap::new();
    let mut w = rest.split_whitespace();
    m.insert("dev", w.next()?);
    if w.next()? != "glock" {
        return None;
    }
    m.insert("glock", w.next()?);
    for f in w {
        let (k, v) = f.split_once(':')?;
        m.insert(k, v);
    }
    Some(m)
}

/// `a/b` as two numbers.
fn pair(s: &str) -> Option<(i64, i64)> {
    let (a, b) = s.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A `GDLM-RSB` line: `(glock type, number)` and `res_nodeid` (0: this node masters it).
fn rsb(line: &str) -> Option<((u32, u64), i64)> {
    let r = line.strip_prefix("GDLM-RSB ")?;
    let (_, r) = r.split_once("rsb ")?;
    let mut w = r.split_whitespace();
    let _addr = w.next()?;
    let nodeid: i64 = w.next()?.parse().ok()?;
    let (_, name) = r.split_once(" str ")?;
    // gfs2's resource name: "%8x%16llx" (type, number), 24 characters.
    if name.len() != 24 || !name.is_ascii() {
        return None;
    }
    let ty = u32::from_str_radix(name[..8].trim(), 16).ok()?;
    let num = u64::from_str_radix(name[8..].trim(), 16).ok()?;
    Some(((ty, num), nodeid))
}

/// Read one scenario directory's `nodeN.log` files.
pub fn scenario_times(dir: &Path) -> ScenarioTimes {
    let mut st = ScenarioTimes::default();
    for (id, p) in crate::import::node_files(dir) {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut masters: BTreeMap<(u32, u64), i64> = BTreeMap::new();
        // (glock, tdiff, status, srtt pair, srttb pair) in order.
        let mut raw: Vec<Raw> = Vec::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(k) = line.split_once(" kernel=") {
                if line.contains("] init node=") {
                    let rel = k.1.split_whitespace().next().unwrap_or("");
                    st.kernels.insert(id, rel.to_string());
                }
            }
            if line == "GDLM-TRACE not available" {
                st.not_available.push(id);
            } else if line == "GDLM-TRACE end" {
                st.traced.push(id);
            } else if line.starts_with("GDLM-RSB ") {
                if let Some((g, n)) = rsb(line) {
                    masters.insert(g, n);
                }
            } else if line.starts_with("GDLM-TRACE ") {
                let Some(f) = fields(line) else { continue };
                let Some((t, n)) = f.get("glock").and_then(|g| g.split_once(':')) else {
                    continue;
                };
                let (Ok(t), Ok(n)) = (t.parse::<u32>(), n.parse::<u64>()) else {
                    continue;
                };
                let (Some(td), Some(status), Some(srtt), Some(srttb)) = (
                    f.get("tdiff").and_then(|v| v.parse::<i64>().ok()),
                    f.get("status").and_then(|v| v.parse::<i64>().ok()),
                    f.get("srtt").and_then(|v| pair(v)),
                    f.get("srttb").and_then(|v| pair(v)),
                ) else {
                    continue;
                };
                raw.push(((t, n), td.max(0) as u64, status, srtt, srttb));
            }
        }
        let mut prev: BTreeMap<(u32, u64), (Pair, Pair)> = BTreeMap::new();
        for (g, td, status, srtt, srttb) in raw {
            let (ps, pb) = prev.get(&g).copied().unwrap_or(((0, 0), (0, 0)));
            prev.insert(g, (srtt, srttb));
            let class = match (srtt != ps, srttb != pb) {
                (true, false) => Class::NonBlocking,
                (false, true) => Class::Blocking,
                _ => Class::Unknown,
            };
            let reply = match status {
                0 => Reply::Granted,
                -11 => Reply::TryFailed,
                -65538 => Reply::Unlocked,
                _ => Reply::Other,
            };
            let master = match masters.get(&g) {
                Some(0) => Master::Local,
                Some(n) if *n > 0 => Master::Remote,
                _ => Master::Unknown,
            };
            st.samples.push(Sample {
                node: id,
                glock: g,
                reply,
                tdiff_ns: td,
                master,
                class,
            });
        }
    }
    st
}

/// The `q`-quantile (0..=1) of sorted values (nearest rank).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// `k` values standing for the distribution of `sorted` (its quantiles at the middle of
/// `k` equal bands), for a constant table the simulator draws from uniformly.
pub fn table(sorted: &[u64], k: usize) -> Vec<u64> {
    (0..k)
        .map(|i| quantile(sorted, (i as f64 + 0.5) / k as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "GDLM-TRACE  kworker/u4:2-61  [001] .....  52.100000: gfs2_glock_lock_time: 254,16 glock 2:1234 status:0 flags:00 tdiff:183000 srtt:22875/11437 srttb:0/0 sirt:0/0 dcnt:1 qcnt:1";

    #[test]
    fn a_trace_line_gives_its_fields() {
        let f = fields(LINE).unwrap();
        assert_eq!(f["glock"], "2:1234");
        assert_eq!(f["tdiff"], "183000");
        assert_eq!(pair(f["srtt"]), Some((22875, 11437)));
        assert!(fields("GDLM-TRACE gfs2_glock_lock_time: 254,16 inode 2:1").is_none());
    }

    #[test]
    fn an_rsb_line_gives_the_glock_and_its_master() {
        let l = "GDLM-RSB gfs1_all rsb 00000000deadbeef 2 2 1 0 0 24 str        2            1234";
        // type 2, number 0x1234 (the name is hex)
        assert_eq!(rsb(l), Some(((2, 0x1234), 2)));
        let l = "GDLM-RSB gfs1_all rsb ffff8880 0 1 1 0 0 24 str        9               2";
        assert_eq!(rsb(l), Some(((9, 2), 0)));
        assert_eq!(
            rsb("GDLM-RSB gfs1_all rsb ffff 0 1 1 0 0 5 str short"),
            None
        );
    }

    #[test]
    fn a_directory_classes_its_replies() {
        let d = std::env::temp_dir().join(format!("gdlm-grant-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let log = format!(
            "GDLM[1.0] init node=1 nnodes=3 scenario=x kernel=6.1.0-57-amd64 payload=y\n\
             {LINE}\n\
             GDLM-TRACE  k-1 [000] ..... 53.0: gfs2_glock_lock_time: 254,16 glock 2:1234 status:0 flags:00 tdiff:5000000 srtt:22875/11437 srttb:625000/1250000 sirt:0/0 dcnt:2 qcnt:1\n\
             GDLM-TRACE  k-1 [000] ..... 54.0: gfs2_glock_lock_time: 254,16 glock 5:7 status:-65538 flags:00 tdiff:90000 srtt:11250/5625 srttb:0/0 sirt:0/0 dcnt:1 qcnt:0\n\
             GDLM-TRACE end\n\
             GDLM-RSB gfs1_all rsb ffff 0 1 1 0 0 24 str        2             4d2\n\
             GDLM-RSB gfs1_all rsb ffff 3 3 1 0 0 24 str        5               7\n"
        );
        std::fs::write(d.join("node1.log"), log).unwrap();
        std::fs::write(d.join("node2.log"), "GDLM-TRACE not available\n").unwrap();
        let st = scenario_times(&d);
        std::fs::remove_dir_all(&d).unwrap();
        assert_eq!(
            st.kernels.get(&1).map(String::as_str),
            Some("6.1.0-57-amd64")
        );
        assert_eq!(
            (st.traced.clone(), st.not_available.clone()),
            (vec![1], vec![2])
        );
        let s = &st.samples;
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].reply, s[0].master, s[0].class, s[0].tdiff_ns),
            (Reply::Granted, Master::Local, Class::NonBlocking, 183_000)
        );
        assert_eq!((s[1].class, s[1].tdiff_ns), (Class::Blocking, 5_000_000));
        assert_eq!(
            (s[2].reply, s[2].master, s[2].class),
            (Reply::Unlocked, Master::Remote, Class::NonBlocking)
        );
    }

    #[test]
    fn quantiles_and_tables_follow_the_values() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.99), 99);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(table(&v, 4), vec![13, 38, 63, 88]);
        assert_eq!(quantile(&[], 0.5), 0);
    }
}
