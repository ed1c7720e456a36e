//! A picture of each node's state over virtual time (SVG): mounting, blocked, recovering
//! a journal, unblocked, dead; with the DLM generations, journal replays, busy
//! (`LM_RD_GAVEUP`) results, first mounts and crashes marked.
//!
//! The x axis is virtual time with a scale (ticks in ms or s), so the 500 ms and 1 s
//! waits of the protocol show as the gaps they are. Rows shrink with the node count (16
//! and 64 nodes fit one picture; labels thin out) and [`View`] zooms into a time window.

use std::fmt::Write as _;

use serde::Serialize;
use svg::node::element::{Line, Polygon, Rectangle, Text, Title};
use svg::Document;

use crate::node::{Node, Note, Phase};

/// What a node is doing, as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Look {
    /// Not mounted.
    Down,
    /// Crashed.
    Dead,
    /// Joining or running control_mount.
    Mounting,
    /// First mounter recovering every journal.
    FirstRecovery,
    /// Mounted, locking blocked for recovery.
    Blocked,
    /// Mounted and replaying a failed node's journal.
    Recovering(u32),
    /// Mounted, locking unblocked.
    Unblocked,
}

impl Look {
    /// The look of a node now.
    pub fn of<const N: usize>(n: &Node<N>) -> Look {
        match n.phase {
            Phase::Down => Look::Down,
            Phase::Dead => Look::Dead,
            Phase::Joining | Phase::Mounting | Phase::OwnJournal => Look::Mounting,
            Phase::FirstRecovery | Phase::FirstDone => Look::FirstRecovery,
            Phase::Mounted => match n.replaying() {
                Some(jid) => Look::Recovering(jid),
                None if n.rec().locks_blocked() => Look::Blocked,
                None => Look::Unblocked,
            },
        }
    }

    fn colour(&self) -> &'static str {
        match self {
            Look::Down => "#e8e8e8",
            Look::Dead => "#555555",
            Look::Mounting => "#9ecae1",
            Look::FirstRecovery => "#fdae6b",
            Look::Blocked => "#fb6a4a",
            Look::Recovering(_) => "#e6550d",
            Look::Unblocked => "#74c476",
        }
    }

    /// The label drawn on a segment (and in its tooltip).
    pub fn label(&self) -> String {
        match self {
            Look::Recovering(j) => format!("recovering jid {j}"),
            Look::FirstRecovery => "first recovery".into(),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

/// One stretch of a node in one look.
#[derive(Clone, Debug, Serialize)]
pub struct Segment {
    /// Node id.
    pub node: u32,
    /// First event.
    pub from: u64,
    /// Event after the last.
    pub to: u64,
    /// Virtual time of the first event (ms).
    pub t_from: u64,
    /// Virtual time at the end (ms).
    pub t_to: u64,
    /// The look.
    pub look: Look,
}

/// A point event on a node's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Mark {
    /// `recover jid J result busy` (`LM_RD_GAVEUP`: the journal lock was held).
    Busy(u32),
    /// `first mounter control generation G`.
    FirstMount(u32),
    /// A crash.
    Crash,
    /// A lock held from outside the file system (a schedule's `hold`) was granted
    /// (`true`) or released, on the node whose DLM holds it.
    Hold {
        /// The lock (`journal 2`, `control_lock`, …).
        lock: String,
        /// Granted (or released).
        granted: bool,
    },
}

/// A journal replay on a node, start to end.
#[derive(Clone, Debug, Serialize)]
pub struct Replay {
    /// The node replaying.
    pub node: u32,
    /// The journal.
    pub jid: u32,
    /// Start (ms).
    pub from: u64,
    /// End (ms; the run's end if it never ended).
    pub to: u64,
    /// It failed.
    pub failed: bool,
}

/// A time window to draw (ms); `None` ends: the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// From (ms).
    pub from: Option<u64>,
    /// To (ms).
    pub to: Option<u64>,
}

impl View {
    /// Parse `FROM..TO` (ms; either may be empty, `s` suffix for seconds).
    pub fn parse(s: &str) -> Result<View, String> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| format!("timeline window {s:?}: want FROM..TO (ms)"))?;
        let p = |x: &str| -> Result<Option<u64>, String> {
            let x = x.trim();
            if x.is_empty() {
                return Ok(None);
            }
            let (num, scale) = match x.strip_suffix("ms") {
                Some(n) => (n, 1.0),
                None => match x.strip_suffix('s') {
                    Some(n) => (n, 1000.0),
                    None => (x, 1.0),
                },
            };
            num.parse::<f64>()
                .map(|v| Some((v * scale) as u64))
                .map_err(|e| format!("timeline window {s:?}: {e}"))
        };
        Ok(View {
            from: p(a)?,
            to: p(b)?,
        })
    }
}

/// The recorded timeline.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    open: Vec<(u64, u64, Look)>,
    /// Closed segments.
    pub segments: Vec<Segment>,
    /// (ms, generation) when the DLM finished a recovery.
    pub generations: Vec<(u64, u32)>,
    /// (ms, node, mark).
    pub marks: Vec<(u64, u32, Mark)>,
    /// Journal replays.
    pub replays: Vec<Replay>,
    end: u64,
    t_end: u64,
}

impl Timeline {
    /// Record the nodes' looks after event `step` at virtual time `now`.
    pub fn record<const N: usize>(&mut self, step: u64, now: u64, nodes: &[Node<N>]) {
        if self.open.len() != nodes.len() {
            self.open = nodes.iter().map(|n| (step, now, Look::of(n))).collect();
        }
        for (i, n) in nodes.iter().enumerate() {
            let look = Look::of(n);
            if look != self.open[i].2 {
                let (from, t_from, old) = std::mem::replace(&mut self.open[i], (step, now, look));
                self.segments.push(Segment {
                    node: n.id,
                    from,
                    to: step,
                    t_from,
                    t_to: now,
                    look: old,
                });
            }
        }
        self.end = step + 1;
        self.t_end = self.t_end.max(now);
    }

    /// Note a DLM generation.
    pub fn generation(&mut self, now: u64, gen: u32) {
        self.generations.push((now, gen));
    }

    /// Note a crash.
    pub fn crash(&mut self, now: u64, node: u32) {
        self.marks.push((now, node, Mark::Crash));
        self.replays_end(now, node);
    }

    /// A node that crashed or left stopped its replays then (they never finish).
    fn replays_end(&mut self, now: u64, node: u32) {
        for r in &mut self.replays {
            if r.node == node && r.to == u64::MAX {
                r.to = now;
            }
        }
    }

    /// Note an outside hold granted or released.
    pub fn hold(&mut self, now: u64, node: u32, lock: &str, granted: bool) {
        let lock = lock.to_string();
        self.marks.push((now, node, Mark::Hold { lock, granted }));
    }

    /// Look at a node's note for marks (replays, busy results, first mounts).
    pub fn note(&mut self, now: u64, node: u32, note: &Note) {
        use gdlm_core::engine::LogEvent;
        match note {
            Note::Log(LogEvent::RecoveryResult { jid, gaveup: true }) => {
                self.marks.push((now, node, Mark::Busy(*jid)))
            }
            Note::Log(LogEvent::FirstMounter { generation }) => {
                self.marks.push((now, node, Mark::FirstMount(*generation)))
            }
            Note::Replay(jid) => self.replays.push(Replay {
                node,
                jid: *jid,
                from: now,
                to: u64::MAX,
                failed: false,
            }),
            Note::Replayed { jid, ok } => {
                if let Some(r) = self
                    .replays
                    .iter_mut()
                    .rev()
                    .find(|r| r.node == node && r.jid == *jid && r.to == u64::MAX)
                {
                    r.to = now;
                    r.failed = !ok;
                }
            }
            Note::Released { .. } => self.replays_end(now, node),
            _ => {}
        }
    }

    /// Close the open segments.
    pub fn finish(&mut self) {
        let (end, t_end) = (self.end, self.t_end);
        for (i, (from, t_from, look)) in self.open.drain(..).enumerate() {
            self.segments.push(Segment {
                node: i as u32 + 1,
                from,
                to: end,
                t_from,
                t_to: t_end,
                look,
            });
        }
        for r in &mut self.replays {
            if r.to == u64::MAX {
                r.to = t_end;
            }
        }
    }

    /// Render the whole run as SVG.
    pub fn to_svg(&self, title: &str) -> String {
        self.to_svg_view(title, View::default())
    }

    /// Render a time window as SVG: one row per node, x = virtual time.
    pub fn to_svg_view(&self, title: &str, view: View) -> String {
        let nodes = self
            .segments
            .iter()
            .map(|s| s.node)
            .chain(self.marks.iter().map(|m| m.1))
            .max()
            .unwrap_or(1) as usize;
        let t0 = view.from.unwrap_or(0);
        let t1 = view.to.unwrap_or(self.t_end).max(t0 + 1);
        // Rows shrink with the node count: 28 px for a few nodes, 9 px at 64.
        let row = (560.0 / nodes as f64).clamp(9.0, 28.0);
        let (left, top, width) = (70.0, 62.0, 1100.0);
        let span = (t1 - t0) as f64;
        let x = |t: u64| left + width * (t.clamp(t0, t1) - t0) as f64 / span;
        let visible = |a: u64, b: u64| b >= t0 && a <= t1;
        let bottom = top + row * nodes as f64;
        let height = bottom + 100.0;
        let font = if row < 14.0 { 8 } else { 11 };
        let mut doc = Document::new()
            .set("viewBox", (0, 0, left + width + 20.0, height))
            .set("width", left + width + 20.0)
            .set("height", height)
            .set("font-family", "sans-serif")
            .set("font-size", 11)
            .add(
                Rectangle::new()
                    .set("width", "100%")
                    .set("height", "100%")
                    .set("fill", "white"),
            )
            .add(
                Text::new(title)
                    .set("x", 10)
                    .set("y", 16)
                    .set("font-size", 13),
            );
        // Node labels: every row while they fit, else every k-th.
        let every = ((11.0 / row).ceil() as usize).max(1);
        for n in 1..=nodes {
            let last = n == nodes && (n - 1) % every >= every / 2;
            if (n - 1) % every != 0 && !last {
                continue;
            }
            let y = top + row * (n - 1) as f64;
            doc = doc.add(
                Text::new(format!("node {n}"))
                    .set("x", 10)
                    .set("y", y + row * 0.5 + font as f64 * 0.35)
                    .set("font-size", font),
            );
        }
        // Time grid and scale.
        let step = tick_step(span);
        let mut t = t0.div_ceil(step) * step;
        while t <= t1 {
            doc = doc
                .add(
                    Line::new()
                        .set("x1", x(t))
                        .set("x2", x(t))
                        .set("y1", top)
                        .set("y2", bottom + 4.0)
                        .set("stroke", "#cccccc")
                        .set("stroke-width", 0.5),
                )
                .add(
                    Text::new(time_label(t, step))
                        .set("x", x(t))
                        .set("y", bottom + 16.0)
                        .set("text-anchor", "middle")
                        .set("font-size", 10),
                );
            t += step;
        }
        doc = doc.add(
            Text::new("virtual time")
                .set("x", left + width)
                .set("y", bottom + 28.0)
                .set("text-anchor", "end")
                .set("font-size", 10)
                .set("fill", "#666666"),
        );
        for s in self.segments.iter().filter(|s| visible(s.t_from, s.t_to)) {
            let y = top + row * (s.node - 1) as f64 + 1.0;
            let w = (x(s.t_to) - x(s.t_from)).max(0.8);
            let rect = Rectangle::new()
                .set("x", x(s.t_from))
                .set("y", y)
                .set("width", w)
                .set("height", row - 2.0)
                .set("fill", s.look.colour())
                .add(Title::new(format!(
                    "node {}: {} ({}-{} ms, events {}-{})",
                    s.node,
                    s.look.label(),
                    s.t_from,
                    s.t_to,
                    s.from,
                    s.to
                )));
            doc = doc.add(rect);
            // The label on the segment when it fits (the jid shows without a tooltip).
            let label = match s.look {
                Look::Recovering(j) if w >= 18.0 => Some(if w > 90.0 {
                    format!("recovering jid {j}")
                } else {
                    format!("jid {j}")
                }),
                Look::Blocked | Look::FirstRecovery | Look::Mounting
                    if w > 7.0 * s.look.label().len() as f64 && row >= 14.0 =>
                {
                    Some(s.look.label())
                }
                _ => None,
            };
            if let Some(l) = label {
                // Past a mark at the segment's start (a busy result, a first mount), so the
                // two do not overlap.
                let r = (row * 0.35).clamp(3.0, 7.0);
                let tw = 0.6 * font as f64 * l.len() as f64;
                let mut lx = x(s.t_from) + 2.0;
                let mut marks: Vec<f64> = self
                    .marks
                    .iter()
                    .filter(|(_, n, _)| *n == s.node)
                    .map(|(t, _, _)| x(*t))
                    .filter(|&mx| mx >= lx - r && mx <= x(s.t_from) + w)
                    .collect();
                marks.sort_by(f64::total_cmp);
                for mx in marks {
                    if mx + r + 2.0 > lx && mx - r - 2.0 < lx + tw {
                        lx = mx + r + 2.0;
                    }
                }
                if lx + tw > x(s.t_from) + w {
                    continue;
                }
                doc = doc.add(
                    Text::new(l)
                        .set("x", lx)
                        .set("y", y + row * 0.45 + font as f64 * 0.3)
                        .set("font-size", font)
                        .set("fill", "black"),
                );
            }
        }
        // Replays: a dark bar along the bottom of the row, with the jid.
        for r in self.replays.iter().filter(|r| visible(r.from, r.to)) {
            let y = top + row * r.node as f64 - 1.0 - (row * 0.25).max(2.0);
            let w = (x(r.to) - x(r.from)).max(1.5);
            let colour = if r.failed { "#990000" } else { "#3f007d" };
            doc = doc.add(
                Rectangle::new()
                    .set("x", x(r.from))
                    .set("y", y)
                    .set("width", w)
                    .set("height", (row * 0.25).max(2.0))
                    .set("fill", colour)
                    .add(Title::new(format!(
                        "node {} replays journal {} ({}-{} ms){}",
                        r.node,
                        r.jid,
                        r.from,
                        r.to,
                        if r.failed { ", failed" } else { "" }
                    ))),
            );
        }
        // DLM generations: dashed lines, labels on three levels, thinned when crowded.
        let mut last_label = [f64::MIN; 3];
        for (i, &(t, g)) in self
            .generations
            .iter()
            .filter(|(t, _)| (t0..=t1).contains(t))
            .enumerate()
        {
            doc = doc.add(
                Line::new()
                    .set("x1", x(t))
                    .set("x2", x(t))
                    .set("y1", top - 4.0)
                    .set("y2", bottom)
                    .set("stroke", "#3182bd")
                    .set("stroke-width", 0.7)
                    .set("stroke-dasharray", "3,3")
                    .add(Title::new(format!("DLM generation {g} at {t} ms"))),
            );
            let level = i % 3;
            if x(t) - last_label[level] > 22.0 {
                last_label[level] = x(t);
                doc = doc.add(
                    Text::new(format!("g{g}"))
                        .set("x", x(t) + 1.0)
                        .set("y", top - 6.0 - 10.0 * level as f64)
                        .set("fill", "#3182bd")
                        .set("font-size", 10),
                );
            }
        }
        // Point marks.
        for (t, n, m) in self.marks.iter().filter(|(t, _, _)| (t0..=t1).contains(t)) {
            let cy = top + row * (*n - 1) as f64 + row / 2.0;
            let r = (row * 0.35).clamp(3.0, 7.0);
            let cx = x(*t);
            doc = doc.add(match m {
                Mark::Busy(j) => Polygon::new()
                    .set(
                        "points",
                        format!(
                            "{},{} {},{} {},{}",
                            cx,
                            cy - r,
                            cx - r,
                            cy + r,
                            cx + r,
                            cy + r
                        ),
                    )
                    .set("fill", "#ffff33")
                    .set("stroke", "black")
                    .set("stroke-width", 0.7)
                    .add(Title::new(format!(
                        "node {n}: recover jid {j} result busy (GAVEUP) at {t} ms"
                    ))),
                Mark::FirstMount(g) => Polygon::new()
                    .set("points", star(cx, cy, r))
                    .set("fill", "#54278f")
                    .add(Title::new(format!(
                        "node {n}: first mounter, control generation {g}, at {t} ms"
                    ))),
                Mark::Crash => Polygon::new()
                    .set("points", cross(cx, cy, r))
                    .set("fill", "black")
                    .add(Title::new(format!("node {n} crashes at {t} ms"))),
                Mark::Hold { lock, granted } => Polygon::new()
                    .set("points", diamond(cx, cy, r))
                    .set("fill", if *granted { "#fd8d3c" } else { "white" })
                    .set("stroke", "#a63603")
                    .set("stroke-width", 1.0)
                    .add(Title::new(format!(
                        "{lock} {} from outside (node {n}'s DLM) at {t} ms",
                        if *granted { "held" } else { "released" }
                    ))),
            });
        }
        // Legend.
        let mut lx = left;
        let ly = bottom + 40.0;
        for look in [
            Look::Down,
            Look::Mounting,
            Look::FirstRecovery,
            Look::Blocked,
            Look::Recovering(0),
            Look::Unblocked,
            Look::Dead,
        ] {
            let label = match look {
                Look::Recovering(_) => "recovering jid N".to_string(),
                ref l => l.label(),
            };
            doc = doc
                .add(
                    Rectangle::new()
                        .set("x", lx)
                        .set("y", ly)
                        .set("width", 12)
                        .set("height", 12)
                        .set("fill", look.colour()),
                )
                .add(
                    Text::new(label.clone())
                        .set("x", lx + 16.0)
                        .set("y", ly + 10.0),
                );
            lx += 26.0 + 6.5 * label.len() as f64;
        }
        let ly = ly + 22.0;
        let mut items: Vec<(&str, String)> = vec![
            ("replay", "journal replay or head lookup".into()),
            ("busy", "busy result (GAVEUP)".into()),
            ("first", "first mounter".into()),
            ("crash", "crash".into()),
            ("gen", "DLM generation gN".into()),
        ];
        if self
            .marks
            .iter()
            .any(|(_, _, m)| matches!(m, Mark::Hold { .. }))
        {
            items.push(("hold", "outside hold granted / released".into()));
        }
        let mut lx = left;
        for (kind, label) in items {
            let (cx, cy) = (lx + 6.0, ly + 6.0);
            doc = match kind {
                "replay" => doc.add(
                    Rectangle::new()
                        .set("x", lx)
                        .set("y", ly + 4.0)
                        .set("width", 12)
                        .set("height", 4)
                        .set("fill", "#3f007d"),
                ),
                "busy" => doc.add(
                    Polygon::new()
                        .set(
                            "points",
                            format!(
                                "{cx},{} {},{} {},{}",
                                cy - 6.0,
                                cx - 6.0,
                                cy + 6.0,
                                cx + 6.0,
                                cy + 6.0
                            ),
                        )
                        .set("fill", "#ffff33")
                        .set("stroke", "black")
                        .set("stroke-width", 0.7),
                ),
                "first" => doc.add(
                    Polygon::new()
                        .set("points", star(cx, cy, 6.0))
                        .set("fill", "#54278f"),
                ),
                "crash" => doc.add(
                    Polygon::new()
                        .set("points", cross(cx, cy, 6.0))
                        .set("fill", "black"),
                ),
                "hold" => doc.add(
                    Polygon::new()
                        .set("points", diamond(cx, cy, 6.0))
                        .set("fill", "#fd8d3c")
                        .set("stroke", "#a63603"),
                ),
                _ => doc.add(
                    Line::new()
                        .set("x1", cx)
                        .set("x2", cx)
                        .set("y1", ly)
                        .set("y2", ly + 12.0)
                        .set("stroke", "#3182bd")
                        .set("stroke-dasharray", "3,3"),
                ),
            };
            doc = doc.add(
                Text::new(label.clone())
                    .set("x", lx + 16.0)
                    .set("y", ly + 10.0),
            );
            lx += 30.0 + 6.5 * label.len() as f64;
        }
        let mut out = String::new();
        let _ = write!(out, "{doc}");
        out
    }
}

/// A diamond's points around (cx, cy).
fn diamond(cx: f64, cy: f64, r: f64) -> String {
    format!(
        "{cx},{} {},{cy} {cx},{} {},{cy}",
        cy - r,
        cx + r,
        cy + r,
        cx - r
    )
}

/// A 1/2/5 × 10^k ms tick step giving 5–12 ticks over `span` ms.
fn tick_step(span: f64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step * m;
            if span / s as f64 <= 12.0 {
                return s;
            }
        }
        step *= 10;
    }
}

/// `t` ms as a tick label: ms below a 1 s step when the step is under a second.
fn time_label(t: u64, step: u64) -> String {
    if t == 0 {
        "0".into()
    } else if step >= 1000 || t % 1000 == 0 {
        let s = t as f64 / 1000.0;
        if step % 1000 == 0 {
            format!("{s:.0} s")
        } else {
            format!("{s:.1} s")
        }
    } else if step >= 100 {
        format!("{:.1} s", t as f64 / 1000.0)
    } else {
        format!("{t} ms")
    }
}

fn star(cx: f64, cy: f64, r: f64) -> String {
    let mut s = String::new();
    for k in 0..10 {
        let a = std::f64::consts::PI * (k as f64 / 5.0) - std::f64::consts::FRAC_PI_2;
        let rr = if k % 2 == 0 { r } else { r * 0.45 };
        let _ = write!(s, "{:.1},{:.1} ", cx + rr * a.cos(), cy + rr * a.sin());
    }
    s
}

fn cross(cx: f64, cy: f64, r: f64) -> String {
    let w = r * 0.3;
    let pts = [
        (-r, -r + w),
        (-r + w, -r),
        (0.0, -w),
        (r - w, -r),
        (r, -r + w),
        (w, 0.0),
        (r, r - w),
        (r - w, r),
        (0.0, w),
        (-r + w, r),
        (-r, r - w),
        (-w, 0.0),
    ];
    let mut s = String::new();
    for (dx, dy) in pts {
        let _ = write!(s, "{:.1},{:.1} ", cx + dx, cy + dy);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_few() {
        assert_eq!(tick_step(100.0), 10);
        assert_eq!(tick_step(4_700.0), 500);
        assert_eq!(tick_step(60_000.0), 5_000);
        assert_eq!(tick_step(200_000.0), 20_000);
        assert_eq!(time_label(1500, 500), "1.5 s");
        assert_eq!(time_label(2000, 1000), "2 s");
        assert_eq!(time_label(40, 10), "40 ms");
    }

    #[test]
    fn view_parses_ms_and_seconds() {
        assert_eq!(
            View::parse("1.5s..3000").unwrap(),
            View {
                from: Some(1500),
                to: Some(3000)
            }
        );
        assert_eq!(View::parse("..2s").unwrap().to, Some(2000));
        assert!(View::parse("12").is_err());
    }

    #[test]
    fn a_crash_ends_the_nodes_replay_and_labels_clear_marks() {
        use gdlm_core::engine::LogEvent;
        let mut t = Timeline {
            open: vec![(0, 0, Look::Blocked), (0, 0, Look::Mounting)],
            end: 10,
            t_end: 2000,
            ..Timeline::default()
        };
        t.note(100, 2, &Note::Replay(1));
        t.crash(300, 2);
        t.note(
            20,
            1,
            &Note::Log(LogEvent::RecoveryResult {
                jid: 2,
                gaveup: true,
            }),
        );
        t.finish();
        // Not drawn on to the end of the run through the node's death.
        assert_eq!((t.replays[0].from, t.replays[0].to), (100, 300));
        let svg = t.to_svg("x");
        // The "blocked" label starts right of the busy triangle at t=20, not under it.
        let lines: Vec<&str> = svg.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim() == "blocked")
            .expect("label");
        let text_x: f64 = lines[..at]
            .iter()
            .rev()
            .find_map(|l| l.trim().strip_prefix("<text ").map(|_| *l))
            .and_then(|l| l.split("x=\"").nth(1))
            .and_then(|v| v.split('"').next())
            .and_then(|v| v.parse().ok())
            .expect("its x");
        let tri = svg
            .lines()
            .find(|l| l.contains("<polygon") && l.contains("#ffff33"))
            .expect("busy mark");
        let tri_x: f64 = tri
            .split("points=\"")
            .nth(1)
            .and_then(|p| p.split(',').next())
            .and_then(|v| v.parse().ok())
            .expect("apex x");
        assert!(text_x > tri_x + 3.0, "label at {text_x}, mark at {tri_x}");
    }

    #[test]
    fn marks_and_replays_are_drawn_with_their_jid() {
        use gdlm_core::engine::LogEvent;
        let mut t = Timeline {
            open: vec![(0, 0, Look::Recovering(2))],
            end: 10,
            t_end: 2000,
            ..Timeline::default()
        };
        t.note(100, 1, &Note::Replay(2));
        t.note(900, 1, &Note::Replayed { jid: 2, ok: true });
        t.note(
            50,
            1,
            &Note::Log(LogEvent::RecoveryResult {
                jid: 2,
                gaveup: true,
            }),
        );
        t.generation(40, 4);
        t.finish();
        assert_eq!((t.replays[0].from, t.replays[0].to), (100, 900));
        let svg = t.to_svg("x");
        // Text elements' contents are on lines of their own.
        let text = |s: &str, what: &str| s.lines().any(|l| l.trim() == what);
        assert!(
            text(&svg, "recovering jid 2"),
            "the jid drawn on the segment"
        );
        assert!(svg.contains("result busy (GAVEUP)"));
        assert!(text(&svg, "g4"));
        assert!(text(&svg, "1.0 s") && text(&svg, "0.2 s"), "a time scale");
        // A window that leaves out the replay does not draw it.
        let svg = t.to_svg_view(
            "x",
            View {
                from: Some(1000),
                to: Some(2000),
            },
        );
        assert!(!svg.contains("replays journal 2"));
    }
}
