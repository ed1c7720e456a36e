//! A picture of each node's state over time (SVG): mounting, blocked, recovering a
//! journal, unblocked, dead; with the DLM generations marked.

use std::fmt::Write as _;

use serde::Serialize;
use svg::node::element::{Line, Rectangle, Text, Title};
use svg::Document;

use crate::node::{Node, Phase};

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
    pub fn of(n: &Node) -> Look {
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

    fn label(&self) -> String {
        match self {
            Look::Recovering(j) => format!("recovering jid {j}"),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

/// One stretch of a node in one look, in event indices.
#[derive(Clone, Debug, Serialize)]
pub struct Segment {
    /// Node id.
    pub node: u32,
    /// First event.
    pub from: u64,
    /// Event after the last.
    pub to: u64,
    /// The look.
    pub look: Look,
}

/// The recorded timeline.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    open: Vec<(u64, Look)>,
    /// Closed segments.
    pub segments: Vec<Segment>,
    /// (event, generation) when the DLM finished a recovery.
    pub generations: Vec<(u64, u32)>,
    /// (event, node) crashes.
    pub crashes: Vec<(u64, u32)>,
    end: u64,
}

impl Timeline {
    /// Record the nodes' looks after event `step`.
    pub fn record(&mut self, step: u64, nodes: &[Node]) {
        if self.open.len() != nodes.len() {
            self.open = nodes.iter().map(|n| (step, Look::of(n))).collect();
        }
        for (i, n) in nodes.iter().enumerate() {
            let look = Look::of(n);
            if look != self.open[i].1 {
                let (from, old) = std::mem::replace(&mut self.open[i], (step, look));
                self.segments.push(Segment {
                    node: n.id,
                    from,
                    to: step,
                    look: old,
                });
            }
        }
        self.end = step + 1;
    }

    /// Note a DLM generation.
    pub fn generation(&mut self, step: u64, gen: u32) {
        self.generations.push((step, gen));
    }

    /// Note a crash.
    pub fn crash(&mut self, step: u64, node: u32) {
        self.crashes.push((step, node));
    }

    /// Close the open segments.
    pub fn finish(&mut self) {
        for (i, (from, look)) in self.open.drain(..).enumerate() {
            self.segments.push(Segment {
                node: i as u32 + 1,
                from,
                to: self.end,
                look,
            });
        }
    }

    /// Render as SVG: one row per node, x = event index.
    pub fn to_svg(&self, title: &str) -> String {
        let nodes = self.segments.iter().map(|s| s.node).max().unwrap_or(1) as usize;
        let (left, top, row, width) = (70.0, 40.0, 28.0, 1100.0);
        let end = self.end.max(1) as f64;
        let x = |e: u64| left + width * e as f64 / end;
        let height = top + row * nodes as f64 + 70.0;
        let mut doc = Document::new()
            .set("viewBox", (0, 0, left + width + 20.0, height))
            .set("font-family", "sans-serif")
            .set("font-size", 11)
            .add(
                Text::new(title)
                    .set("x", 10)
                    .set("y", 18)
                    .set("font-size", 14),
            );
        for n in 1..=nodes {
            let y = top + row * (n - 1) as f64;
            doc = doc.add(
                Text::new(format!("node {n}"))
                    .set("x", 10)
                    .set("y", y + row * 0.65),
            );
        }
        for s in &self.segments {
            let y = top + row * (s.node - 1) as f64 + 3.0;
            let w = (x(s.to) - x(s.from)).max(0.5);
            let rect = Rectangle::new()
                .set("x", x(s.from))
                .set("y", y)
                .set("width", w)
                .set("height", row - 6.0)
                .set("fill", s.look.colour())
                .add(Title::new(format!(
                    "node {}: {} (events {}-{})",
                    s.node,
                    s.look.label(),
                    s.from,
                    s.to
                )));
            doc = doc.add(rect);
        }
        let bottom = top + row * nodes as f64;
        for (i, &(e, g)) in self.generations.iter().enumerate() {
            doc = doc
                .add(
                    Line::new()
                        .set("x1", x(e))
                        .set("x2", x(e))
                        .set("y1", top - 4.0)
                        .set("y2", bottom)
                        .set("stroke", "#3182bd")
                        .set("stroke-dasharray", "3,3"),
                )
                .add(
                    Text::new(format!("g{g}"))
                        .set("x", x(e) + 2.0)
                        .set("y", top - 6.0 - 9.0 * (i % 2) as f64)
                        .set("fill", "#3182bd"),
                );
        }
        for &(e, n) in &self.crashes {
            let y = top + row * (n - 1) as f64 + row / 2.0;
            doc = doc.add(
                Text::new("✕")
                    .set("x", x(e) - 4.0)
                    .set("y", y + 4.0)
                    .set("fill", "black"),
            );
        }
        // Legend.
        let mut lx = left;
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
                        .set("y", bottom + 20.0)
                        .set("width", 12)
                        .set("height", 12)
                        .set("fill", look.colour()),
                )
                .add(
                    Text::new(label.clone())
                        .set("x", lx + 16.0)
                        .set("y", bottom + 30.0),
                );
            lx += 30.0 + 7.0 * label.len() as f64;
        }
        let mut out = String::new();
        let _ = write!(out, "{doc}");
        out
    }
}
